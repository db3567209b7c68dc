//! The console's static files, compiled into the binary: nothing is
//! fetched from elsewhere at run time. `htmx.min.js` is vendored from the
//! npm registry (see `static/VENDORED.md`); its checksum is checked by a
//! test against `static/SHA256SUMS`.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

const HTMX: &[u8] = include_bytes!("../../static/htmx.min.js");
const STYLE: &[u8] = include_bytes!("../../static/console.css");
const SCRIPT: &[u8] = include_bytes!("../../static/console.js");

pub(crate) async fn serve(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "htmx.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        "console.css" => (STYLE, "text/css; charset=utf-8"),
        "console.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        _ => return super::render::not_found(),
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    #[test]
    fn the_vendored_htmx_is_the_one_recorded() {
        let recorded = include_str!("../../static/SHA256SUMS");
        let line = recorded
            .lines()
            .find(|line| line.ends_with(" htmx.min.js"))
            .expect("htmx.min.js is listed in SHA256SUMS");
        let expected = line.split_whitespace().next().expect("a checksum");
        assert_eq!(hex_of(&Sha256::digest(super::HTMX)), expected);
    }

    fn hex_of(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
