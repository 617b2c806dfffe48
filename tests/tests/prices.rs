//! The spec's price table (`x-price`) is the one source of every cost: for
//! each rule of each task type, a request that the rule prices is estimated
//! by the SDK and billed by the simulator for exactly the same amount; a
//! request the table cannot price is estimated as unknown (never as zero)
//! and refused by a client with a budget.

use std::time::Duration;

use piapi_kling::models::catalog::{self, Estimate, PriceRule, TaskTypeInfo};
use piapi_kling::{Client, CreateTaskRequest, Error, Usd, WaitPolicy};
use piapi_kling_sim::{RunningSimulator, Simulator};
use piapi_kling_tests::cases::base;
use serde_json::{Value, json};

async fn sim() -> RunningSimulator {
    Simulator::builder()
        .api_key("k")
        .speed(2000.0)
        .start()
        .await
        .unwrap()
}

fn client(sim: &RunningSimulator, budget: Option<Usd>) -> Client {
    let builder = Client::builder()
        .api_key("k")
        .base_url(sim.base_url())
        .wait_policy(WaitPolicy::fixed(Duration::from_millis(10)));
    match budget {
        Some(budget) => builder.budget(budget),
        None => builder,
    }
    .build()
    .unwrap()
}

/// A value of the input field `field` that a `when` value stands for.
fn when_value(info: &TaskTypeInfo, field: &str, text: &str) -> Value {
    let kind = info.input.iter().find(|f| f.name == field).map(|f| f.kind);
    match (text, kind) {
        ("*", _) => json!("https://example.com/any.png"),
        ("true", _) => json!(true),
        ("false", _) => json!(false),
        (text, Some(catalog::FieldKind::Enum { integer: true, .. })) => {
            json!(text.parse::<i64>().unwrap())
        }
        (text, _) => json!(text),
    }
}

/// A valid body of `info`'s task type that `rule` prices: the base body
/// without the fields other rules key on, then the rule's own values.
fn body_for(info: &TaskTypeInfo, rules: &[PriceRule], rule: &PriceRule) -> CreateTaskRequest {
    let mut body = base(info.task_type);
    let input = body["input"].as_object_mut().unwrap();
    for other in rules.iter().flat_map(|r| r.when.fields) {
        if !rule.when.fields.iter().any(|(f, _)| f == &other.0) {
            input.remove(other.0);
        }
    }
    for (field, values) in rule.when.fields {
        let value = when_value(info, field, values[0]);
        if *field == "model" {
            body["model"] = value;
        } else {
            body["input"][*field] = value;
        }
    }
    serde_json::from_value(body).unwrap()
}

#[tokio::test]
async fn every_price_rule_estimates_what_the_simulator_bills() {
    let sim = sim().await;
    let client = client(&sim, None);
    let mut checked = 0;
    for info in catalog::TASK_TYPES {
        let Some(price) = info.price else {
            panic!("{} has no x-price", info.task_type);
        };
        for (index, rule) in price.rules.iter().enumerate() {
            let request = body_for(info, price.rules, rule);
            let estimate = request.estimate();
            let label = format!("{} rule {index} ({})", info.task_type, rule.source);
            match (&estimate, rule.units) {
                (Estimate::Known { source, .. }, Some(_)) => {
                    assert_eq!(*source, rule.source, "{label}: priced by its own rule")
                }
                (Estimate::Unknown { .. }, None) => {}
                _ => panic!("{label}: estimated {estimate}"),
            }
            // The origin task of extend, lip-sync and sound must exist.
            let request = with_origin(&client, request).await;
            let handle = client.create(request).await.unwrap();
            let done = handle.wait().await.unwrap();
            let charged = done.charged().expect("the simulator reports usage");
            match estimate.amount() {
                Some(amount) => assert_eq!(charged, amount, "{label}: billed as estimated"),
                None => assert!(charged > Usd::ZERO, "{label}: unknown is never free"),
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "{checked} rules checked");
}

/// Points an `origin_task_id` at a finished video of this simulator.
async fn with_origin(client: &Client, mut request: CreateTaskRequest) -> CreateTaskRequest {
    if request.origin_task_id().is_none() {
        return request;
    }
    let origin = client
        .text_to_video("an origin video")
        .send()
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    let mut body = serde_json::to_value(&request).unwrap();
    body["input"]["origin_task_id"] = json!(origin.id());
    request = serde_json::from_value(body).unwrap();
    request
}

#[tokio::test]
async fn a_budget_refuses_what_would_go_over_it_and_what_it_cannot_price() {
    let sim = sim().await;
    let client = client(&sim, Some(Usd::from_dollars(1.0)));
    let effect = || client.effect("https://example.com/cat.png", "squish");
    let mut handles = Vec::new();
    for _ in 0..3 {
        handles.push(effect().send().await.unwrap());
    }
    let spending = client.spending().unwrap();
    assert_eq!(spending.reserved, Usd::from_dollars(0.78));
    let creates = sim.count_requests("POST", "/api/v1/task");
    let err = effect().send().await.unwrap_err();
    assert!(matches!(err, Error::OverBudget { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("estimated at $0.26")
            && text.contains("$0.78 reserved")
            && text.contains("budget of $1.00"),
        "{text}"
    );
    assert_eq!(
        sim.count_requests("POST", "/api/v1/task"),
        creates,
        "nothing sent"
    );

    // Finished tasks turn their reservation into what was charged.
    for handle in handles {
        handle.wait().await.unwrap();
    }
    let spending = client.spending().unwrap();
    assert_eq!(
        (spending.reserved, spending.spent),
        (Usd::ZERO, Usd::from_dollars(0.78))
    );

    // No version: the table cannot price it, so a budget refuses it.
    let err = client.text_to_video("a fox").send().await.unwrap_err();
    assert!(err.to_string().contains("price is unknown"), "{err}");
    assert_eq!(sim.count_requests("POST", "/api/v1/task"), creates);
}

#[tokio::test]
async fn a_dry_run_checks_and_prices_without_sending() {
    let sim = sim().await;
    let client = client(&sim, None);
    let dir = std::env::temp_dir().join(format!("dry-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dry = client
        .multi_shot([piapi_kling::Shot::new("a door opens", 3)])
        .audio(true)
        .dry_run()
        .await
        .unwrap();
    assert_eq!(dry.request.input_json()["multi_shots"][0]["duration"], 3);
    // 3 s of 720p with audio at $0.15 per second.
    assert_eq!(dry.estimate.amount(), Some(Usd::from_dollars(0.45)));
    let missing = dir.join("missing.png");
    let err = client
        .omni("x")
        .reference_image(&missing)
        .dry_run()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("input.images[0]"), "{err}");
    assert!(sim.request_log().is_empty(), "a dry run sends nothing");
}
