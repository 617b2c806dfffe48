// A try-on needs the photo of the person.
fn main() {
    let client = piapi_kling::Client::builder().api_key("k").build().unwrap();
    let _ = client.try_on().dress("https://example.com/dress.png");
}
