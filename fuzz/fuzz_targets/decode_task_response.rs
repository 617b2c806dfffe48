//! Arbitrary bytes into the response decoder (and, when they decode, back out
//! and through validate()): it may reject, it must never panic, and whatever
//! decodes must re-encode and decode to an equal value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use piapi_kling_models::{CreateTaskRequest, TaskResponse, Validate, WebhookEvent};

fuzz_target!(|data: &[u8]| {
    if let Ok(task) = serde_json::from_slice::<TaskResponse>(data) {
        let again = serde_json::to_vec(&task).expect("a decoded response re-encodes");
        let back: TaskResponse = serde_json::from_slice(&again).expect("and decodes again");
        assert_eq!(back, task);
        let _ = task.data.video_url();
        let _ = task.data.error_message();
    }
    let _ = serde_json::from_slice::<WebhookEvent>(data);
    if let Ok(request) = serde_json::from_slice::<CreateTaskRequest>(data) {
        let _ = request.validate();
    }
});
