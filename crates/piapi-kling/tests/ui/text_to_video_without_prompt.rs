// A text-to-video task needs a prompt: it is the constructor's argument.
fn main() {
    let client = piapi_kling::Client::builder().api_key("k").build().unwrap();
    let _ = client.text_to_video();
}
