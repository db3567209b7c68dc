//! Streamed list answers: `{"status":"Success", …, "<key>":[` then rows as
//! the store yields them, then `]}`. Memory stays flat however many rows a
//! provider holds.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::{stream, FutureExt, StreamExt};

use crate::envelope::JSON_CONTENT_TYPE;
use crate::error::HttpError;
use connecticket_domain::model::Page;
use connecticket_domain::service::ListRequest;

/// Renders `list` under `key`, each row written by `render`. The first chunk is
/// awaited before answering, so a store that fails at once yields a proper
/// 500; a failure after that cuts the connection, which clients see as a
/// truncated (invalid) JSON document rather than a silently short list.
pub(crate) async fn stream_list<T, F>(
    key: &'static str,
    list: ListRequest<T>,
    first_by: impl std::future::Future<Output = ()>,
    render: F,
) -> Result<Response, HttpError>
where
    T: Send + 'static,
    F: Fn(&T, &mut Vec<u8>) -> serde_json::Result<()> + Send + 'static,
{
    let mut rows = list.rows;
    let first = tokio::select! {
        first = rows.next() => first,
        () = first_by => return Err(connecticket_domain::DomainError::DeadlineExceeded.into()),
    };
    let first = match first {
        Some(Ok(chunk)) => chunk,
        Some(Err(error)) => return Err(HttpError::Internal(error.to_string())),
        None => Vec::new(),
    };
    let head = Bytes::from(format!("{}\"{key}\":[", envelope_head(list.page)));
    let mut wrote_any = false;
    let mut encode = move |chunk: Vec<T>| -> Result<Bytes, std::io::Error> {
        let mut out = Vec::with_capacity(chunk.len() * 512);
        for row in &chunk {
            if wrote_any {
                out.push(b',');
            }
            render(row, &mut out).map_err(std::io::Error::other)?;
            wrote_any = true;
        }
        // A chunk may wait in the socket's queue as long as its client
        // dawdles: it holds only what it needs, not the room reserved.
        out.shrink_to_fit();
        Ok(Bytes::from(out))
    };
    let first = encode(first).map_err(|error| HttpError::Internal(error.to_string()))?;
    // A page (or a list that fit in one chunk) has ended already: it goes
    // out as one body with its length, not as chunks a client reassembles.
    // A chunk that was ready already must still be sent, ahead of the rest.
    let ready = match rows.next().now_or_never() {
        Some(None) => {
            let mut whole = Vec::with_capacity(head.len() + first.len() + LIST_TAIL.len());
            whole.extend_from_slice(&head);
            whole.extend_from_slice(&first);
            whole.extend_from_slice(LIST_TAIL);
            return Ok(json_answer(Body::from(whole)));
        }
        Some(Some(chunk)) => Some(chunk),
        None => None,
    };
    let rest = stream::iter(ready)
        .chain(rows)
        .map(move |chunk| match chunk {
            Ok(chunk) => encode(chunk),
            Err(error) => {
                tracing::error!(%error, "a streamed list failed part-way");
                Err(std::io::Error::other("list aborted"))
            }
        });
    let body = stream::once(async { Ok(head) })
        .chain(stream::once(async { Ok(first) }))
        .chain(rest)
        .chain(stream::once(async { Ok(Bytes::from_static(LIST_TAIL)) }));
    Ok(json_answer(Body::from_stream(body)))
}

/// What closes the rows' array and the envelope.
const LIST_TAIL: &[u8] = b"]}";

fn json_answer(body: Body) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(JSON_CONTENT_TYPE),
        )],
        body,
    )
        .into_response()
}

fn envelope_head(page: Option<Page>) -> String {
    match page {
        Some(page) => {
            let mut head = format!(
                "{{\"status\":\"Success\",\"page\":{},\"per_page\":{},",
                page.number, page.per_page
            );
            if let Some(after_id) = page.after_id {
                head.push_str(&format!("\"after_id\":{after_id},"));
            }
            head
        }
        None => "{\"status\":\"Success\",".to_owned(),
    }
}
