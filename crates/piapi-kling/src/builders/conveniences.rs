//! What is ergonomic on top of the generated setters: shorter names for the
//! common fields, and helpers that set several fields at once. Everything
//! here is also reachable through a setter named after the field.

use piapi_kling_models::{
    AiTryOnInput, EffectsInput, Element, LipSyncInput, MotionBrush, MotionMask, SoundInput,
    VideoGenerationInput,
};

use super::TaskBuilder;
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
