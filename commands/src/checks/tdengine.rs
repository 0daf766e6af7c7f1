//! The TDengine check over its REST interface (taosAdapter): `POST /rest/sql` with Basic authentication and
//! the body `SELECT SERVER_VERSION()`. TDengine answers JSON: `{"code":0,"column_meta":…,"data":[["3.3.6.0"]],
//! "rows":1}` when the query ran, `{"code":N,"desc":"…"}` when it did not (with HTTP 200 or an error status).
//! The credentials come from the URL (`http://user:password@tdengine:6041`), else TDengine's default account.

use std::time::Instant;

use serde_json::Value;

use super::http_check::{error_reason, excerpt};
use super::result::{CheckLevel, CheckResult};

/// The statement the check runs: cheap, needs no database, proves the server answers SQL.
pub const PROBE_SQL: &str = "SELECT SERVER_VERSION()";
/// TDengine's default account, used when the URL names none.
const DEFAULT_USER: &str = "root";
const DEFAULT_PASSWORD: &str = "taosdata";

/// `base` + `/rest/sql`, without credentials: what the check shows as its target.
pub fn sql_url(base: &str) -> String {
    let url = super::http_check::join(base, "/rest/sql");
    match url::Url::parse(&url) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Err(_) => crate::store::redact_url(&url),
    }
}

/// The user and password for `base`: from its userinfo (percent-decoded), else TDengine's default account.
fn credentials(base: &str) -> (String, String) {
    match url::Url::parse(base) {
        Ok(u) if !u.username().is_empty() => (
            decode(u.username()),
            decode(u.password().unwrap_or_default()),
        ),
        _ => (DEFAULT_USER.into(), DEFAULT_PASSWORD.into()),
    }
}

/// `%XX` escapes decoded (userinfo in a URL is percent-encoded); anything malformed is kept as written.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs [`PROBE_SQL`] against `base`'s REST interface: ok with the server's version, fail with TDengine's code
/// and `desc`, or with the HTTP status and body when the answer is not TDengine's JSON.
pub async fn server_version(client: &reqwest::Client, base: &str) -> CheckResult {
    let shown = sql_url(base);
    let (user, password) = credentials(base);
    let started = Instant::now();
    let sent = client
        .post(&shown)
        .basic_auth(user, Some(password))
        .header(reqwest::header::CONTENT_TYPE, "text/plain")
        .body(PROBE_SQL)
        .send()
        .await;
    let line = |level, reason: String| {
        CheckResult::new("tdengine", &shown, level, reason, started.elapsed())
    };
    let response = match sent {
        Ok(r) => r,
        Err(err) => return line(CheckLevel::Fail, error_reason(&err)),
    };
    let status = response.status().as_u16();
    let body = match response.text().await {
        Ok(b) => b,
        Err(err) => return line(CheckLevel::Fail, error_reason(&err)),
    };
    let (level, reason) = judge_answer(status, &body);
    line(level, reason)
}

/// TDengine's answer as a level and reason.
pub fn judge_answer(status: u16, body: &str) -> (CheckLevel, String) {
    let Ok(json) = serde_json::from_str::<Value>(body) else {
        return (CheckLevel::Fail, format!("{status} {}", excerpt(body)));
    };
    match json["code"].as_i64() {
        Some(0) if (200..300).contains(&status) => {
            let version = json["data"][0][0].as_str().unwrap_or("version not given");
            (CheckLevel::Ok, format!("{status} TDengine {version}"))
        }
        Some(code) => {
            let desc = json["desc"].as_str().unwrap_or("no description");
            (CheckLevel::Fail, format!("{status} code {code}: {desc}"))
        }
        None => (CheckLevel::Fail, format!("{status} {}", excerpt(body))),
    }
}
