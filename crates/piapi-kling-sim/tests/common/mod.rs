//! Helpers shared by the integration tests: a reqwest client bound to one
//! running simulator, and polling until a task reaches a state.
#![allow(dead_code)] // each test binary uses a different subset

use std::time::{Duration, Instant};

use piapi_kling_models::{ErrorResponse, TaskData, TaskResponse, TaskStatus};
use piapi_kling_sim::{RunningSimulator, SimulatorBuilder};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The request body of the seed page's curl sample
/// (`/work/shared/seeds/001_5c07371d7491c16c.txt`), verbatim.
pub const SEED_BODY: &str = r#"{
    "model": "kling",
    "task_type": "video_generation",
    "input": {
        "prompt": "White egrets fly over the vast paddy fields",
        "negative_prompt": "",
        "cfg_scale": 0.5,
        "duration": 5,
        "aspect_ratio": "1:1",
        "camera_control": {
            "type": "simple",
            "config": {
                "horizontal": 0,
                "vertical": 0,
                "pan": -10,
                "tilt": 0,
                "roll": 0,
                "zoom": 0
            }
        },
        "mode": "std"
    },
    "config": {
        "service_mode": "",
        "webhook_config": {
            "endpoint": "",
            "secret": ""
        }
    }
}"#;

/// A client for one simulator.
pub struct Api {
    pub sim: RunningSimulator,
    pub http: reqwest::Client,
    pub base: String,
    pub key: String,
}

impl Api {
    pub async fn start(builder: SimulatorBuilder) -> Api {
        let sim = builder.start().await.expect("simulator starts");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Api {
            base: sim.base_url(),
            key: sim.api_key().to_owned(),
            sim,
            http,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POST /api/v1/task with a JSON body; the raw answer.
    pub async fn post_raw(&self, body: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self
            .http
            .post(self.url("/api/v1/task"))
            .header("x-api-key", &self.key)
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("create answered")
    }

    /// Creates a task that must be accepted.
    pub async fn create(&self, body: Value) -> TaskData {
        self.create_with(body, &[]).await
    }

    pub async fn create_with(&self, body: Value, headers: &[(&str, &str)]) -> TaskData {
        let response = self.post_raw(&body.to_string(), headers).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "create failed: {text}");
        let parsed: TaskResponse = serde_json::from_str(&text).expect("a TaskResponse");
        assert_eq!((parsed.code, parsed.message.as_str()), (200, "success"));
        parsed.data
    }

    /// A create that must be refused: (status, decoded error body).
    pub async fn create_err(&self, body: Value) -> (StatusCode, ErrorResponse) {
        let response = self.post_raw(&body.to_string(), &[]).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        let parsed: ErrorResponse = serde_json::from_str(&text).expect("an ErrorResponse");
        assert_eq!(parsed.code, i64::from(status.as_u16()));
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap()["data"],
            Value::Null
        );
        (status, parsed)
    }

    /// GET /api/v1/task/{id}: the raw answer.
    pub async fn get_raw(&self, id: &str) -> reqwest::Response {
        self.http
            .get(self.url(&format!("/api/v1/task/{id}")))
            .header("x-api-key", &self.key)
            .send()
            .await
            .expect("get answered")
    }

    pub async fn get(&self, id: &str) -> TaskData {
        let response = self.get_raw(id).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json::<TaskResponse>().await.unwrap().data
    }

    /// DELETE /api/v1/task/{id}: (status, body).
    pub async fn cancel(&self, id: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .delete(self.url(&format!("/api/v1/task/{id}")))
            .header("x-api-key", &self.key)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    /// Polls until `done(task)` or panics after `timeout`.
    pub async fn wait_until(
        &self,
        id: &str,
        timeout: Duration,
        done: impl Fn(&TaskData) -> bool,
    ) -> TaskData {
        let deadline = Instant::now() + timeout;
        loop {
            let task = self.get(id).await;
            if done(&task) {
                return task;
            }
            assert!(
                Instant::now() < deadline,
                "task {id} still {} after {timeout:?}",
                task.status
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub async fn wait_status(&self, id: &str, status: TaskStatus, timeout: Duration) -> TaskData {
        self.wait_until(id, timeout, |t| t.status == status).await
    }

    pub async fn wait_terminal(&self, id: &str, timeout: Duration) -> TaskData {
        self.wait_until(id, timeout, |t| t.status.is_terminal())
            .await
    }
}

/// A text-to-video body with the given prompt.
pub fn video(prompt: &str) -> Value {
    json!({"model": "kling", "task_type": "video_generation",
           "input": {"prompt": prompt, "aspect_ratio": "16:9"}})
}

/// A minimal body of each task type (origin tasks must be given where needed).
pub fn body(task_type: &str, input: Value) -> Value {
    json!({"model": "kling", "task_type": task_type, "input": input})
}
