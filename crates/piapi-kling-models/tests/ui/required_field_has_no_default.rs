// An effects input without its required `effect` cannot be built: the type has
// no Default, so the required fields must be given (EffectsInput::new).
use piapi_kling_models::EffectsInput;

fn main() {
    let _ = EffectsInput {
        image_url: "https://example.com/cat.png".into(),
        ..Default::default()
    };
}
