//! A scratch PostgreSQL schema per test, on the server the project's
//! machines run (`postgres://postgres@127.0.0.1:5432/test`, or
//! `KLING_TEST_POSTGRES`). When it cannot be reached a test is skipped with a
//! message saying so, except under `CI=true`, where it fails.

use std::time::Duration;

/// The server tests use unless `KLING_TEST_POSTGRES` names another.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A schema of its own for one test, dropped at the end.
#[derive(Debug)]
pub struct PgTest {
    base: String,
    schema: String,
}

impl PgTest {
    /// A fresh schema named after `label`, or `None` (with a message) when
    /// PostgreSQL is unreachable outside CI. Panics under `CI=true` then.
    pub fn new(label: &str) -> Option<PgTest> {
        let base = std::env::var("KLING_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_URL.to_owned());
        let probe = base.clone();
        let reachable: Result<(), String> = run(async move {
            match tokio::time::timeout(
                Duration::from_secs(5),
                tokio_postgres::connect(&probe, tokio_postgres::NoTls),
            )
            .await
            {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("timed out".to_owned()),
            }
        });
        if let Err(why) = reachable {
            let message = format!(
                "PostgreSQL unreachable at {} ({why})",
                crate::describe_location(&base)
            );
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "{message}: CI needs it (start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`)"
                );
            }
            eprintln!("skipped: {message}; set CI=true to make this a failure");
            return None;
        }
        let label: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(30)
            .collect();
        let schema = format!("t_{label}_{:08x}", rand::random::<u32>());
        Some(PgTest { base, schema })
    }

    /// The ledger URL of this test's schema.
    pub fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{sep}schema={}", self.base, self.schema)
    }

    /// The schema's name.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Runs `sql` in the schema (for tests that inspect or tamper).
    pub fn execute(&self, sql: &str) {
        let (base, schema, sql) = (self.base.clone(), self.schema.clone(), sql.to_owned());
        run(async move {
            let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
                .await
                .expect("connect");
            tokio::spawn(connection);
            client
                .batch_execute(&format!("SET search_path TO {schema}; {sql}"))
                .await
                .expect("sql runs");
        });
    }
}

impl Drop for PgTest {
    fn drop(&mut self) {
        let (base, schema) = (self.base.clone(), self.schema.clone());
        let _ = std::thread::spawn(move || {
            run(async move {
                if let Ok((client, connection)) =
                    tokio_postgres::connect(&base, tokio_postgres::NoTls).await
                {
                    tokio::spawn(connection);
                    let _ = client
                        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                        .await;
                }
            })
        })
        .join();
    }
}

/// Runs `future` on a runtime of its own (tests may be sync or async).
fn run<F: std::future::Future + Send + 'static>(future: F) -> F::Output
where
    F::Output: Send + 'static,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(future)
    })
    .join()
    .expect("the helper thread")
}
