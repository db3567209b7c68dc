//! Every call of the contract as a wrk script, with the floor's call each
//! one is compared with. Fixed URLs are sent as they are (as the floor's
//! fixed ones are); calls that spread over the data pick random ids in
//! Lua, as the floor's `detail_rnd` does.

use serde::Serialize;

use crate::dataset::{Shape, ATTACHMENT_BYTES, CATEGORIES};

/// A token and the credentials every call carries.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub api_key: String,
    pub api_secret: String,
}

/// One call: its name, the floor call it is compared with, its script.
#[derive(Debug, Clone, Serialize)]
pub struct Call {
    pub name: &'static str,
    pub floor: Option<&'static str>,
    #[serde(skip)]
    pub script: String,
    /// Whether it writes (a write is acknowledged only once durable).
    pub writes: bool,
}

impl Session {
    /// What every script starts with: credentials, a per-thread random
    /// seed, and helpers.
    fn prelude(&self) -> String {
        format!(
            r#"
local token = "{token}"
local headers = {{ ["api_key"] = "{key}", ["api_secret"] = "{secret}" }}
local function with(extra)
  local all = {{ ["api_key"] = "{key}", ["api_secret"] = "{secret}" }}
  for k, v in pairs(extra) do all[k] = v end
  return all
end
local function api(call) return "/api/" .. token .. "/" .. call end
local threads = 0
setup = function(thread) threads = threads + 1; thread:set("seed", threads) end
init = function(args) math.randomseed(os.time() * 7919 + (seed or 0) * 104729) end
"#,
            token = self.token,
            key = self.api_key,
            secret = self.api_secret,
        )
    }

    /// A GET of one fixed call.
    fn fixed_get(&self, call: &str) -> String {
        format!(
            "{}\nwrk.method = \"GET\"\nwrk.path = api(\"{call}\")\nfor k, v in pairs(headers) do wrk.headers[k] = v end\n",
            self.prelude()
        )
    }

    /// A script whose `request()` is `body`.
    fn dynamic(&self, body: &str) -> String {
        format!("{}\nrequest = function()\n{body}\nend\n", self.prelude())
    }
}

/// The calls, against a dataset of this shape.
pub fn contract_calls(session: &Session, shape: Shape) -> Vec<Call> {
    let tickets = shape.tickets.max(1);
    let residents = shape.residents.max(1);
    let attachments = shape.attachments.max(1);
    let ratings: String = CATEGORIES
        .iter()
        .zip(["Issue", "No%20Issue", "Potential%20Issue", "No%20Issue"])
        .map(|(id, rating)| format!("&category_{id}={rating}"))
        .collect();
    let boundary = "benchboundary7d93";
    let file = "x".repeat(ATTACHMENT_BYTES);
    let call = |name, floor, script, writes| Call {
        name,
        floor,
        script,
        writes,
    };
    vec![
        call("tickets_25", Some("list"), session.fixed_get("tickets?per_page=25"), false),
        call(
            "tickets_25_after_rnd",
            Some("list"),
            session.dynamic(&format!(
                "return wrk.format(\"GET\", api(\"tickets?per_page=25&after_id=\" .. math.random(1, {})), headers)",
                tickets.saturating_sub(25).max(1)
            )),
            false,
        ),
        call(
            "tickets_of_resident_rnd",
            None,
            session.dynamic(&format!(
                "return wrk.format(\"GET\", api(\"tickets?resident_id=\" .. math.random(1, {residents})), headers)"
            )),
            false,
        ),
        call("ticket_detail", Some("detail"), session.fixed_get("ticket_detail?id=4711"), false),
        call(
            "ticket_detail_rnd",
            Some("detail_rnd"),
            session.dynamic(&format!(
                "return wrk.format(\"GET\", api(\"ticket_detail?id=\" .. math.random(1, {tickets})), headers)"
            )),
            false,
        ),
        call("all_residents_25", Some("list"), session.fixed_get("all_residents?per_page=25"), false),
        call("all_residents", None, session.fixed_get("all_residents"), false),
        call("provider_categories", None, session.fixed_get("provider_categories"), false),
        call(
            "attachment_rnd",
            None,
            session.dynamic(&format!(
                "return wrk.format(\"GET\", api(\"attachments/\" .. math.random(1, {attachments})), headers)"
            )),
            false,
        ),
        call(
            "create_ticket",
            Some("create"),
            session.dynamic(&format!(
                "local body = \"title=Fall%20in%20room&general_comments=Found%20on%20the%20floor&resident_id=\" .. math.random(1, {residents}) .. \"{ratings}\"\n\
                 return wrk.format(\"POST\", api(\"create_ticket\"), with({{ [\"Content-Type\"] = \"application/x-www-form-urlencoded\" }}), body)"
            )),
            true,
        ),
        call(
            "create_ticket_file",
            Some("create"),
            session.dynamic(&format!(
                "local body = \"--{boundary}\\r\\nContent-Disposition: form-data; name=\\\"title\\\"\\r\\n\\r\\nPhoto of the bruise\\r\\n\" ..\n\
                 \"--{boundary}\\r\\nContent-Disposition: form-data; name=\\\"resident_id\\\"\\r\\n\\r\\n\" .. math.random(1, {residents}) .. \"\\r\\n\" ..\n\
                 \"--{boundary}\\r\\nContent-Disposition: form-data; name=\\\"attachment\\\"; filename=\\\"bruise.jpg\\\"\\r\\nContent-Type: image/jpeg\\r\\n\\r\\n{file}\\r\\n\" ..\n\
                 \"--{boundary}--\\r\\n\"\n\
                 return wrk.format(\"POST\", api(\"create_ticket\"), with({{ [\"Content-Type\"] = \"multipart/form-data; boundary={boundary}\" }}), body)"
            )),
            true,
        ),
        call(
            "update_status_rnd",
            Some("create"),
            session.dynamic(&format!(
                "local statuses = {{ \"Open\", \"In%20Progress\", \"Resolved\", \"Closed\", \"Reopen\", \"New\" }}\n\
                 return wrk.format(\"POST\", api(\"update_status?id=\" .. math.random(1, {tickets}) .. \"&status=\" .. statuses[math.random(1, 6)]), headers)"
            )),
            true,
        ),
        call(
            "create_comment_rnd",
            Some("create"),
            session.dynamic(&format!(
                "local body = \"comment=Checked%20again%20at%20noon&category_id={category}&ticket_id=\" .. math.random(1, {tickets})\n\
                 return wrk.format(\"POST\", api(\"create_comment\"), with({{ [\"Content-Type\"] = \"application/x-www-form-urlencoded\" }}), body)",
                category = CATEGORIES[0]
            )),
            true,
        ),
        // Last: each authorize issues a token, and beyond the live-token
        // cap revokes the oldest, the one the calls above use.
        call(
            "authorize",
            None,
            format!(
                "{}\nwrk.method = \"POST\"\nwrk.path = \"/api/authorize\"\nfor k, v in pairs(headers) do wrk.headers[k] = v end\n",
                session.prelude()
            ),
            true,
        ),
    ]
}
