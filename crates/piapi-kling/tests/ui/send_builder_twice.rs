// `send()` consumes the builder: the same create cannot be sent twice by
// accident (a second create would be billed).
async fn twice(client: piapi_kling::Client) {
    let builder = client.text_to_video("a fox");
    let _first = builder.send().await;
    let _second = builder.send().await;
}

fn main() {
    let _ = twice;
}
