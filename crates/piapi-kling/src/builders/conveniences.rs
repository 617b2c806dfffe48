//! What is ergonomic on top of the generated setters: shorter names for the
//! common fields, and helpers that set several fields at once. Everything
//! here is also reachable through a setter named after the field.

use piapi_kling_models::{
    AiTryOnInput, AvatarInput, EffectsInput, Element, LipSyncInput, MotionBrush,
    MotionControlInput, MotionMask, OmniVideoGenerationInput, Shot, SoundInput,
    VideoGenerationInput,
};

use std::sync::Arc;

use super::TaskBuilder;
use crate::core::Core;
use crate::source::MediaSource;

/// Text-to-video and image-to-video (`video_generation`).
impl TaskBuilder<VideoGenerationInput> {
    /// The last frame (a URL or a local file): `image_tail_url`.
    pub fn tail_frame(self, image: impl Into<MediaSource>) -> Self {
        self.image_tail_url(image)
    }

    /// Adds a Kling Elements reference image (1 to 4; version 1.6 only).
    pub fn element(mut self, image: impl Into<MediaSource>) -> Self {
        let element = Element::new(image.into().into_text());
        self.input
            .elements
            .get_or_insert_with(Vec::new)
            .push(element);
        self
    }

    /// Native audio (Kling 2.6 and 3.0): `enable_audio`.
    pub fn audio(self, on: bool) -> Self {
        self.enable_audio(on)
    }

    /// Several shots in one video (Kling 3.0): each its own prompt and length
    /// in seconds, which add up to the video's (at most 15). PiAPI ignores
    /// `prompt` and `duration` when shots are given. Adds to the shots
    /// already set.
    pub fn shots(mut self, shots: impl IntoIterator<Item = Shot>) -> Self {
        self.input
            .multi_shots
            .get_or_insert_with(Vec::new)
            .extend(shots);
        self
    }

    /// A reference image the prompt names as `@image_1`, `@image_2`… (a URL or
    /// a local file); adds to `images`.
    pub fn reference_image(mut self, image: impl Into<MediaSource>) -> Self {
        let image = image.into().into_text();
        self.input.images.get_or_insert_with(Vec::new).push(image);
        self
    }

    /// The first frame of a Kling Turbo video: `start_image_url` (the other
    /// versions read `image_url`).
    pub fn start_frame(self, image: impl Into<MediaSource>) -> Self {
        self.start_image_url(image)
    }

    /// The last frame of a Kling Turbo video: `end_image_url`.
    pub fn end_frame(self, image: impl Into<MediaSource>) -> Self {
        self.end_image_url(image)
    }

    /// A motion brush from its parts: the composite `mask` PNG (same size as
    /// the image; a URL or a local file) and its static and dynamic regions.
    /// `.motion_brush(MotionBrush)` sets the whole object.
    pub fn brush(
        mut self,
        mask: impl Into<MediaSource>,
        static_masks: impl IntoIterator<Item = MotionMask>,
        dynamic_masks: impl IntoIterator<Item = MotionMask>,
    ) -> Self {
        let mut brush = MotionBrush::new(mask.into().into_text());
        let statics: Vec<MotionMask> = static_masks.into_iter().collect();
        let dynamics: Vec<MotionMask> = dynamic_masks.into_iter().collect();
        brush.static_masks = (!statics.is_empty()).then_some(statics);
        brush.dynamic_masks = (!dynamics.is_empty()).then_some(dynamics);
        self.input.motion_brush = Some(brush);
        self
    }
}

/// Lip-sync (`lip_sync`). Give either `.text(..)` (with an optional
/// `.speed(..)`) or `.audio(..)`: both, or neither, is a validation error.
///
/// A local audio file must be one of the formats the spec lists for
/// `local_dubbing_url` that PiAPI's upload takes (mp3, wav), at most 10 MB
/// (the upload limit) and as long as the spec allows. The length is read from
/// a WAV header, from an MP3's VBR header, or estimated from an MP3's bitrate;
/// a file whose length cannot be read locally is left for PiAPI to check.
impl TaskBuilder<LipSyncInput> {
    /// A lip-sync of the finished video of task `origin_task_id`
    /// ([`Client::lip_sync`](crate::Client::lip_sync) and the pipeline).
    pub(crate) fn of_video(core: Arc<Core>, origin_task_id: impl Into<String>) -> Self {
        TaskBuilder::with_input(
            core,
            LipSyncInput::default().with_origin_task_id(origin_task_id),
        )
    }

    /// Speech from `text`, spoken by the Kling voice `voice` (`tts_timbre`).
    pub fn text(mut self, text: impl Into<String>, voice: impl Into<String>) -> Self {
        self.input.tts_text = Some(text.into());
        self.input.tts_timbre = Some(voice.into());
        self
    }

    /// Speech speed for `.text()`, 0.8 to 2 (PiAPI's default is 1): `tts_speed`.
    pub fn speed(self, speed: f64) -> Self {
        self.tts_speed(speed)
    }

    /// Your own audio, a URL or a local mp3/wav file: `local_dubbing_url`.
    pub fn audio(self, audio: impl Into<MediaSource>) -> Self {
        self.local_dubbing_url(audio)
    }
}

/// Kling effects (`effects`). The effects `rocket`, `hearting`, `fighting`,
/// `kissing`, `hugging`, `birthday` and `water` need a `.prompt()` (PiAPI says
/// they very likely fail without one).
impl TaskBuilder<EffectsInput> {
    /// Professional mode (dearer, better): `professional_mode`.
    pub fn professional(self, on: bool) -> Self {
        self.professional_mode(on)
    }
}

/// Virtual try-on (`ai_try_on`): one full-body garment (`.dress()`) or an
/// upper and/or lower garment (`.upper()`, `.lower()`).
impl TaskBuilder<AiTryOnInput> {
    /// A full-body garment (excludes `.upper()` and `.lower()`): `dress_input`.
    pub fn dress(self, garment: impl Into<MediaSource>) -> Self {
        self.dress_input(garment)
    }

    /// An upper-body garment: `upper_input`.
    pub fn upper(self, garment: impl Into<MediaSource>) -> Self {
        self.upper_input(garment)
    }

    /// A lower-body garment: `lower_input`.
    pub fn lower(self, garment: impl Into<MediaSource>) -> Self {
        self.lower_input(garment)
    }
}

/// Kling Sound (`sound`): needs a `.prompt()`, a `.for_video()`, or both.
impl TaskBuilder<SoundInput> {
    /// Scores the finished video of task `origin_task_id`.
    pub fn for_video(self, origin_task_id: impl Into<String>) -> Self {
        self.origin_task_id(origin_task_id)
    }
}

/// Kling omni (`omni_video_generation`, versions 3.0 and o1).
impl TaskBuilder<OmniVideoGenerationInput> {
    /// Native audio (3.0): `enable_audio`. PiAPI's native rules turn it off
    /// with a reference video.
    pub fn audio(self, on: bool) -> Self {
        self.enable_audio(on)
    }

    /// Several shots in one video (3.0), adding to those already set; see
    /// [`TaskBuilder::<VideoGenerationInput>::shots`].
    pub fn shots(mut self, shots: impl IntoIterator<Item = Shot>) -> Self {
        self.input
            .multi_shots
            .get_or_insert_with(Vec::new)
            .extend(shots);
        self
    }

    /// A reference image the prompt names as `@image_1`, `@image_2`… (a URL or
    /// a local file); adds to `images`.
    pub fn reference_image(mut self, image: impl Into<MediaSource>) -> Self {
        let image = image.into().into_text();
        self.input.images.get_or_insert_with(Vec::new).push(image);
        self
    }

    /// The reference (base) video, a URL or a local file: `video`.
    pub fn reference_video(self, video: impl Into<MediaSource>) -> Self {
        self.video(video)
    }
}

/// Motion control (`motion_control`): the character in the image moves like
/// a reference video or a named preset; give one of them.
impl TaskBuilder<MotionControlInput> {
    /// A named motion preset, e.g. "Heart Gesture Dance": `preset_motion`.
    pub fn preset(self, name: impl Into<String>) -> Self {
        self.preset_motion(name)
    }

    /// The motion reference video, a URL or a local file: `video_url`.
    pub fn reference_video(self, video: impl Into<MediaSource>) -> Self {
        self.video_url(video)
    }
}

/// Avatar (`avatar`): a portrait that speaks the given audio.
impl TaskBuilder<AvatarInput> {
    /// The speech, a URL or a local file: `local_dubbing_url`.
    pub fn audio(self, audio: impl Into<MediaSource>) -> Self {
        self.local_dubbing_url(audio)
    }
}
