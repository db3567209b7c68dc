use crate::wire::answers::Authorized;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::envelope::json;
use crate::error::HttpError;
use crate::extract::{within, Context, Credentials};
use crate::state::AppState;
use crate::wire::read_params;
use connecticket_domain::time::format_timestamp;

/// `GET|POST /api/authorize`. Credentials come in headers (either spelling);
/// clients that follow the seed's parameter table may send them as
/// parameters instead.
pub(crate) async fn authorize(
    State(state): State<AppState>,
    Context(context): Context,
    request: Request,
) -> Result<Response, HttpError> {
    let (parts, body) = request.into_parts();
    // Nobody is authenticated yet: read no more than two credentials need.
    let read = read_params(&parts, body, state.limits, state.limits.max_authorize_bytes);
    let params = within(&context, &state, read).await??;
    let credentials = Credentials::from_headers(&parts.headers);
    let api_key = credentials
        .api_key
        .or_else(|| params.non_blank("api_key").map(str::to_owned));
    let api_secret = credentials
        .api_secret
        .or_else(|| params.non_blank("api_secret").map(str::to_owned));
    let issued = state
        .api
        .authorize(&context, api_key.as_deref(), api_secret.as_deref())
        .await?;
    Ok(json(
        StatusCode::OK,
        &Authorized {
            access_token: issued.token,
            expires_at: format_timestamp(issued.expires_at, issued.provider.zone()),
            message: format!(
                "Authorized Successfully, Use the Provided Access Token for Future Requests. Thanks for connecting with {}",
                issued.provider.name
            ),
            status: true,
        },
    ))
}
