//! The bad-input matrix: for every documented constraint (the shared list in
//! `cases.rs`), the SDK refuses the request locally with an error naming the
//! field and the rule and sends nothing (checked in the simulator's request
//! log), and the simulator answers 400 naming the same field and rule when the
//! same body is sent raw.

use piapi_kling::{Client, Error, RetryPolicy};
use piapi_kling_models::CreateTaskRequest;
use piapi_kling_sim::{RunningSimulator, Simulator};
use piapi_kling_tests::cases::{constraint_cases, open_value_cases};

/// A simulator and a client without retries, so every request is counted once.
async fn start() -> (RunningSimulator, Client) {
    let sim = Simulator::builder()
        .api_key("matrix-key")
        .speed(1000.0)
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .base_url(sim.base_url())
        .api_key("matrix-key")
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    (sim, client)
}

#[tokio::test]
async fn every_constraint_is_enforced_by_the_sdk_and_the_simulator() {
    let (sim, client) = start().await;
    let raw = reqwest::Client::new();
    let cases = constraint_cases();

    for case in &cases {
        let request: CreateTaskRequest = serde_json::from_value(case.body.clone()).unwrap();
        match client.create(request).await {
            Err(Error::Validation(violations)) => {
                let named = violations
                    .iter()
                    .any(|v| v.path == case.path && v.rule.name() == case.rule);
                assert!(
                    named,
                    "{}: the SDK's violations do not name {} ({}): {violations}",
                    case.name, case.path, case.rule
                );
                let message = Error::Validation(violations).to_string();
                assert!(message.contains(case.path), "{}: {message}", case.name);
            }
            Err(other) => panic!("{}: expected a validation error, got {other}", case.name),
            Ok(handle) => panic!("{}: the SDK created task {}", case.name, handle.id()),
        }
    }
    assert_eq!(
        sim.count_requests("POST", "/api/v1/task"),
        0,
        "the SDK sent an invalid request"
    );
    assert_eq!(
        sim.request_log().len(),
        0,
        "the SDK sent something (an upload?) for an invalid request"
    );

    for case in &cases {
        let response = raw
            .post(format!("{}/api/v1/task", sim.base_url()))
            .header("x-api-key", "matrix-key")
            .json(&case.body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            400,
            "{}: the simulator accepted the body",
            case.name
        );
        let body: piapi_kling_models::ErrorResponse = response.json().await.unwrap();
        let expected = format!("{}: ", case.path);
        assert!(
            body.message.contains(&expected) && body.message.contains(&format!("({})", case.rule)),
            "{}: the simulator's message does not name {} ({}): {}",
            case.name,
            case.path,
            case.rule,
            body.message
        );
    }
    assert_eq!(sim.task_count(), 0, "no invalid body created a task");
    sim.shutdown().await;
}

/// A value an open enum does not list (a newer version, duration, effect …)
/// is not refused: the SDK sends it with one warning naming the field, and
/// the simulator accepts it.
#[tokio::test]
async fn open_enum_values_are_sent_with_a_warning_and_accepted() {
    let (sim, client) = start().await;
    let cases = open_value_cases();
    for case in &cases {
        let request: CreateTaskRequest = serde_json::from_value(case.body.clone()).unwrap();
        let handle = client
            .create(request)
            .await
            .unwrap_or_else(|e| panic!("{}: refused: {e}", case.name));
        let warnings = handle.warnings();
        assert_eq!(warnings.len(), 1, "{}: {warnings:?}", case.name);
        assert_eq!(warnings[0].path, case.path, "{}", case.name);
    }
    assert_eq!(sim.count_requests("POST", "/api/v1/task"), cases.len());
}
