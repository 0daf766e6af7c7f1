//! API errors as real `Status` objects (`kind: Status`, `status: Failure`, reason, code, details).

use axum::body::Body;
use http::{Response, StatusCode, header};
use serde_json::{Value, json};

/// An error the API answers with a Status object.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: StatusCode,
    pub reason: &'static str,
    pub message: String,
    /// `(group, kind, name)` for `details`.
    pub details: Option<(String, String, String)>,
}

impl ApiError {
    fn new(code: StatusCode, reason: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// 401 Unauthorized.
    pub fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized")
    }

    /// 403 Forbidden.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "Forbidden", message)
    }

    /// 404 NotFound for an object: `deployments.apps "x" not found`.
    pub fn not_found(resource: &str, group: &str, name: &str) -> ApiError {
        let qualified = if group.is_empty() {
            resource.to_string()
        } else {
            format!("{resource}.{group}")
        };
        ApiError {
            details: Some((group.to_string(), resource.to_string(), name.to_string())),
            ..ApiError::new(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("{qualified} \"{name}\" not found"),
            )
        }
    }

    /// 404 for a path the server does not serve.
    pub fn no_route() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    /// 405 MethodNotAllowed.
    pub fn method_not_allowed(method: &str) -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("the server does not allow this method on the requested resource ({method})"),
        )
    }

    /// 409 Conflict on a stale resourceVersion.
    pub fn conflict(resource: &str, group: &str, name: &str) -> ApiError {
        let qualified = if group.is_empty() {
            resource.to_string()
        } else {
            format!("{resource}.{group}")
        };
        ApiError {
            details: Some((group.to_string(), resource.to_string(), name.to_string())),
            ..ApiError::new(
                StatusCode::CONFLICT,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {qualified} \"{name}\": the object has been modified; please \
                     apply your changes to the latest version and try again"
                ),
            )
        }
    }

    /// 409 AlreadyExists for a create of a taken name.
    pub fn already_exists(resource: &str, group: &str, name: &str) -> ApiError {
        ApiError {
            details: Some((group.to_string(), resource.to_string(), name.to_string())),
            ..ApiError::new(
                StatusCode::CONFLICT,
                "AlreadyExists",
                format!("{resource} \"{name}\" already exists"),
            )
        }
    }

    /// 410 Gone for a watch from a compacted resourceVersion.
    pub fn gone(rv: u64) -> ApiError {
        ApiError::new(
            StatusCode::GONE,
            "Expired",
            format!("too old resource version: {rv}"),
        )
    }

    /// 415 UnsupportedMediaType for a patch type the server does not take.
    pub fn unsupported_media_type(ct: &str) -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: \
                 application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json \
                 (got {ct:?})"
            ),
        )
    }

    /// 422 Invalid.
    pub fn invalid(kind: &str, name: &str, message: impl Into<String>) -> ApiError {
        let message = message.into();
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            format!("{kind}.apps \"{name}\" is invalid: {message}"),
        )
    }

    /// 422 Invalid with a message used as is.
    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", message)
    }

    /// 500 InternalError.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", message)
    }

    /// The Status object.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code.as_u16(),
        });
        if let Some((group, kind, name)) = &self.details {
            let mut details = json!({ "name": name, "kind": kind });
            if !group.is_empty() {
                details["group"] = json!(group);
            }
            status["details"] = details;
        }
        status
    }

    /// The HTTP response.
    pub fn into_response(self) -> Response<Body> {
        json_response(self.code, &self.to_status())
    }
}

/// A JSON response with `Content-Type: application/json`.
pub fn json_response(code: StatusCode, body: &Value) -> Response<Body> {
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = code;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}

/// The result type of API handlers.
pub type ApiResult<T = Response<Body>> = Result<T, ApiError>;
