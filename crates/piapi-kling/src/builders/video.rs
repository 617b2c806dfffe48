//! Text-to-video and image-to-video (`task_type: video_generation`).

use std::future::Future;

use piapi_kling_models::{
    AspectRatio, CameraControl, Element, Mode, Model, MotionBrush, MotionMask, Version,
    VideoDuration, VideoGenerationInput, VideoGenerationRequest,
};

use super::{Files, Options, Prepared, Slot, admit_create, task_options};
use crate::core::Core;
use crate::error::Result;
use crate::handle::TaskHandle;
use crate::source::MediaSource;
use std::sync::Arc;

/// The settings both video builders share, as methods.
macro_rules! video_settings {
    () => {
        /// What the video must not show (at most 2500 characters).
        pub fn negative_prompt(mut self, text: impl Into<String>) -> Self {
            self.input.negative_prompt = Some(text.into());
            self
        }

        /// How closely to follow the prompt, 0 to 1 (0.5 is recommended).
        pub fn cfg_scale(mut self, scale: f64) -> Self {
            self.input.cfg_scale = Some(scale);
            self
        }

        /// The length in seconds: `VideoDuration::Seconds5`, or any number
        /// (`.duration(15)`); one the spec does not list is sent with a warning.
        pub fn duration(mut self, duration: impl Into<VideoDuration>) -> Self {
            self.input.duration = Some(duration.into());
            self
        }

        /// The aspect ratio (`AspectRatio::Portrait9x16`, or its text).
        pub fn aspect_ratio(mut self, ratio: impl Into<AspectRatio>) -> Self {
            self.input.aspect_ratio = Some(ratio.into());
            self
        }

        /// Standard or professional quality (`Mode::Professional`, or its text).
        pub fn mode(mut self, mode: impl Into<Mode>) -> Self {
            self.input.mode = Some(mode.into());
            self
        }

        /// The Kling model version: `Version::V1_6`, or its text (`"3.0"`); a
        /// version the spec does not list is sent with a warning.
        pub fn version(mut self, version: impl Into<Version>) -> Self {
            self.input.version = Some(version.into());
            self
        }

        /// A camera movement.
        pub fn camera_control(mut self, camera: CameraControl) -> Self {
            self.input.camera_control = Some(camera);
            self
        }

        /// Adds a Kling Elements reference image (1 to 4; version 1.6 only).
        pub fn element(mut self, image: impl Into<MediaSource>) -> Self {
            self.elements.push(image.into());
            self
        }
    };
}

/// Puts the elements into `input`, registering the local ones.
fn place_elements(input: &mut VideoGenerationInput, elements: Vec<MediaSource>, files: &mut Files) {
    if elements.is_empty() {
        return;
    }
    let elements = elements
        .into_iter()
        .enumerate()
        .map(|(i, source)| Element::new(files.put(Slot::Element(i), source)))
        .collect();
    input.elements = Some(elements);
}

/// A text-to-video task; see [`Client::text_to_video`](crate::Client::text_to_video).
#[derive(Debug)]
#[must_use = "a builder does nothing until `.send().await`"]
pub struct TextToVideo {
    client: Arc<Core>,
    input: VideoGenerationInput,
    elements: Vec<MediaSource>,
    options: Options,
}

impl TextToVideo {
    pub(crate) fn new(client: Arc<Core>, prompt: String) -> Self {
        TextToVideo {
            client,
            input: VideoGenerationInput::default().with_prompt(prompt),
            elements: Vec::new(),
            options: Options::default(),
        }
    }

    video_settings!();
    task_options!();

    pub(crate) fn prepare(self) -> Prepared {
        let mut input = self.input;
        // PiAPI requires an aspect ratio for text-to-video.
        input.aspect_ratio.get_or_insert(AspectRatio::Landscape16x9);
        let mut files = Files::default();
        place_elements(&mut input, self.elements, &mut files);
        let request = VideoGenerationRequest::new(Model::Kling, input);
        Prepared::new(self.client, request, files, self.options)
    }

    /// Checks everything locally, uploads local files, creates the task.
    pub fn send(self) -> impl Future<Output = Result<TaskHandle>> + Send + 'static {
        let client = self.client.clone();
        admit_create(client, move || self.prepare())
    }
}

/// An image-to-video task; see [`Client::image_to_video`](crate::Client::image_to_video).
#[derive(Debug)]
#[must_use = "a builder does nothing until `.send().await`"]
pub struct ImageToVideo {
    client: Arc<Core>,
    image: MediaSource,
    tail: Option<MediaSource>,
    input: VideoGenerationInput,
    elements: Vec<MediaSource>,
    motion_brush: Option<(MediaSource, Vec<MotionMask>, Vec<MotionMask>)>,
    options: Options,
}

impl ImageToVideo {
    pub(crate) fn new(client: Arc<Core>, image: MediaSource) -> Self {
        ImageToVideo {
            client,
            image,
            tail: None,
            input: VideoGenerationInput::default(),
            elements: Vec::new(),
            motion_brush: None,
            options: Options::default(),
        }
    }

    /// What the video shows (optional for image-to-video).
    pub fn prompt(mut self, prompt: impl Into<String>) -> Self {
        self.input.prompt = Some(prompt.into());
        self
    }

    /// The last frame (a URL or a local file).
    pub fn tail_frame(mut self, image: impl Into<MediaSource>) -> Self {
        self.tail = Some(image.into());
        self
    }

    /// A motion brush: the composite `mask` PNG (same size as the image) and
    /// its static and dynamic regions.
    pub fn motion_brush(
        mut self,
        mask: impl Into<MediaSource>,
        static_masks: impl IntoIterator<Item = MotionMask>,
        dynamic_masks: impl IntoIterator<Item = MotionMask>,
    ) -> Self {
        self.motion_brush = Some((
            mask.into(),
            static_masks.into_iter().collect(),
            dynamic_masks.into_iter().collect(),
        ));
        self
    }

    video_settings!();
    task_options!();

    pub(crate) fn prepare(self) -> Prepared {
        let mut files = Files::default();
        let mut input = self.input;
        input.image_url = Some(files.put(Slot::Image, self.image));
        if let Some(tail) = self.tail {
            input.image_tail_url = Some(files.put(Slot::ImageTail, tail));
        }
        if let Some((mask, statics, dynamics)) = self.motion_brush {
            let mut brush = MotionBrush::new(files.put(Slot::MotionMask, mask));
            brush.static_masks = (!statics.is_empty()).then_some(statics);
            brush.dynamic_masks = (!dynamics.is_empty()).then_some(dynamics);
            input.motion_brush = Some(brush);
        }
        place_elements(&mut input, self.elements, &mut files);
        let request = VideoGenerationRequest::new(Model::Kling, input);
        Prepared::new(self.client, request, files, self.options)
    }

    /// Checks everything locally, uploads local files, creates the task.
    pub fn send(self) -> impl Future<Output = Result<TaskHandle>> + Send + 'static {
        let client = self.client.clone();
        admit_create(client, move || self.prepare())
    }
}

mod sealed {
    pub trait Sealed {
        fn prepare_video(self) -> crate::builders::Prepared;
    }
}

/// A builder of a video task ([`TextToVideo`] or [`ImageToVideo`]), the first
/// step of [`Client::generate_and_lip_sync`](crate::Client::generate_and_lip_sync).
pub trait VideoBuilder: sealed::Sealed + Send {}

impl sealed::Sealed for TextToVideo {
    fn prepare_video(self) -> Prepared {
        self.prepare()
    }
}

impl sealed::Sealed for ImageToVideo {
    fn prepare_video(self) -> Prepared {
        self.prepare()
    }
}

impl VideoBuilder for TextToVideo {}
impl VideoBuilder for ImageToVideo {}

/// The prepared request of a video builder.
pub(crate) fn prepare_video(builder: impl VideoBuilder) -> Prepared {
    sealed::Sealed::prepare_video(builder)
}
