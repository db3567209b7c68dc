use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use connecticket_domain::audit::Action;
use connecticket_domain::{DomainError, Entity};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use crate::error::HttpError;
use crate::extract::ApiRequest;
use crate::state::AppState;
use crate::wire::commands::attachment_id;

const MAX_FILE_NAME: usize = 100;

/// `GET attachments/{id}`: the stored bytes, always as a download. The id
/// is read from the raw path, so that no spelling of it, however broken,
/// escapes the envelope (a malformed id names no attachment: 404).
pub(crate) async fn download(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Response, HttpError> {
    let accepted = request
        .accept(&state, Action::Attachment, |_, parts| {
            attachment_id(parts.uri.path())
                .ok_or(HttpError::Domain(DomainError::NotFound(Entity::Attachment)))
        })
        .await?;
    let attachment = state.api.attachment(accepted.call, accepted.input).await?;
    let content_type = HeaderValue::from_str(&attachment.meta.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let disposition = content_disposition(&attachment.meta.file_name);
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        attachment.data,
    )
        .into_response())
}

/// `attachment; filename="<ascii fallback>"; filename*=UTF-8''<exact>`, with
/// anything that could break out of the header or a path removed.
pub(crate) fn content_disposition(file_name: &str) -> HeaderValue {
    let base = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_FILE_NAME)
        .collect::<String>();
    let base = base.trim().trim_start_matches('.');
    let base = if base.is_empty() { "attachment" } else { base };
    let ascii: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " ._-()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let exact = utf8_percent_encode(base, NON_ALPHANUMERIC);
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{exact}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_sanitised() {
        let value = content_disposition("../../etc/pass\"wd\r\n.txt");
        let text = value.to_str().expect("ascii");
        assert!(
            text.starts_with("attachment; filename=\"pass_wd.txt\""),
            "{text}"
        );
        assert!(!text.contains('\r') && !text.contains(".."));
        let value = content_disposition("résumé.pdf");
        assert!(value
            .to_str()
            .expect("ascii")
            .contains("filename*=UTF-8''r%C3%A9sum%C3%A9%2Epdf"));
        assert_eq!(
            content_disposition("").to_str().expect("ascii"),
            "attachment; filename=\"attachment\"; filename*=UTF-8''attachment"
        );
    }
}
