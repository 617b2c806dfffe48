// An effects task needs its effect preset.
fn main() {
    let client = piapi_kling::Client::builder().api_key("k").build().unwrap();
    let _ = client.effect("https://example.com/cat.png");
}
