//! Reading request bodies in the three encodings the contract accepts,
//! within the configured limits.

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use bytes::Bytes;
use futures::TryStreamExt;
use http_body_util::{BodyExt, Limited};

use super::params::{FilePart, RequestParams};
use super::urlencoded;
use crate::error::HttpError;
use crate::state::Limits;
use connecticket_domain::text::printable;

/// Reads a request's parameters: the query string, then the body in
/// whichever encoding its content type names.
pub(crate) async fn read_params(
    parts: &Parts,
    body: Body,
    limits: Limits,
) -> Result<RequestParams, HttpError> {
    let mut params = RequestParams::default();
    if let Some(query) = parts.uri.query() {
        urlencoded::parse_into(query.as_bytes(), &mut params)?;
    }
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "multipart/form-data" => {
            read_multipart(body, &content_type, limits, &mut params).await?;
        }
        "application/json" => {
            let bytes = read_body(body, limits).await?;
            if !bytes.is_empty() {
                read_json(&bytes, &mut params)?;
            }
        }
        "" | "application/x-www-form-urlencoded" => {
            let bytes = read_body(body, limits).await?;
            urlencoded::parse_into(&bytes, &mut params)?;
        }
        _ => {
            let bytes = read_body(body, limits).await?;
            if !bytes.is_empty() {
                return Err(HttpError::UnsupportedMediaType);
            }
        }
    }
    Ok(params)
}

fn too_large(limits: Limits) -> HttpError {
    HttpError::PayloadTooLarge(format!(
        "request body is larger than the limit of {} bytes",
        limits.max_request_bytes
    ))
}

async fn read_body(body: Body, limits: Limits) -> Result<Bytes, HttpError> {
    match Limited::new(body, limits.max_request_bytes).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(too_large(limits)),
        Err(error) => Err(HttpError::MalformedBody(format!(
            "could not read the request body: {error}"
        ))),
    }
}

pub(super) fn read_json(bytes: &[u8], params: &mut RequestParams) -> Result<(), HttpError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|error| HttpError::MalformedBody(format!("malformed JSON body: {error}")))?;
    let serde_json::Value::Object(object) = value else {
        return Err(HttpError::MalformedBody(
            "the JSON body must be an object of parameters".to_owned(),
        ));
    };
    for (name, value) in object {
        let text = match value {
            serde_json::Value::Null => continue,
            serde_json::Value::String(text) => text,
            serde_json::Value::Bool(flag) => flag.to_string(),
            serde_json::Value::Number(number) => number.to_string(),
            _ => {
                return Err(HttpError::InvalidParameter(format!(
                    "{} must be a string, number or boolean",
                    printable(&name)
                )))
            }
        };
        params.insert(&name, text)?;
    }
    Ok(())
}

pub(super) async fn read_multipart(
    body: Body,
    content_type: &str,
    limits: Limits,
    params: &mut RequestParams,
) -> Result<(), HttpError> {
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        HttpError::MalformedBody("multipart/form-data without a valid boundary".to_owned())
    })?;
    // Text parts are bounded by the whole-body limit; file parts also by
    // the per-file limit, checked as they stream in (read_part).
    let constraints = multer::Constraints::new()
        .size_limit(multer::SizeLimit::new().whole_stream(limits.max_request_bytes as u64));
    let stream = TryStreamExt::map_err(body.into_data_stream(), std::io::Error::other);
    let mut multipart = multer::Multipart::with_constraints(stream, boundary, constraints);
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return Ok(()),
            Err(error) => return Err(multipart_error(error, limits)),
        };
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(|mime| mime.to_string());
        let file_limit = file_name.as_ref().map(|_| limits.max_file_bytes);
        let data = read_part(field, &name, file_limit, limits).await?;
        match file_name {
            Some(file_name) => {
                if params.files.len() >= limits.max_files {
                    return Err(HttpError::PayloadTooLarge(format!(
                        "too many attachments; at most {} per request",
                        limits.max_files
                    )));
                }
                params.files.push(FilePart {
                    field: name,
                    file_name,
                    content_type: content_type.unwrap_or_default(),
                    data,
                });
            }
            None => {
                let text = String::from_utf8(data.to_vec()).map_err(|_| {
                    HttpError::InvalidParameter(format!("{} is not valid UTF-8", printable(&name)))
                })?;
                params.insert(&name, text)?;
            }
        }
    }
}

async fn read_part(
    mut field: multer::Field<'_>,
    name: &str,
    file_limit: Option<usize>,
    limits: Limits,
) -> Result<Bytes, HttpError> {
    let mut data = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|error| multipart_error(error, limits))?
    {
        data.extend_from_slice(&chunk);
        if let Some(limit) = file_limit.filter(|limit| data.len() > *limit) {
            return Err(HttpError::PayloadTooLarge(format!(
                "{} is larger than the limit of {limit} bytes per file",
                printable(name)
            )));
        }
    }
    Ok(Bytes::from(data))
}

fn multipart_error(error: multer::Error, limits: Limits) -> HttpError {
    match error {
        multer::Error::StreamSizeExceeded { .. } => too_large(limits),
        multer::Error::StreamReadFailed(ref inner)
            if inner.to_string().contains("length limit exceeded") =>
        {
            too_large(limits)
        }
        other => HttpError::MalformedBody(format!("malformed multipart body: {other}")),
    }
}
