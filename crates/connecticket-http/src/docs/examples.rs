//! The calls `/docs` walks through, in the order a newcomer makes them,
//! each with its example and the answer the demo gives. The same list
//! writes the page's shell, Ruby and Python code, and a test runs all
//! three against a live demo server and compares what they print with the
//! answers shown here.

/// One example call.
pub struct Example {
    /// The page anchor.
    pub id: &'static str,
    pub title: &'static str,
    /// What the call does (HTML allowed: written here, never from input).
    pub about: &'static str,
    pub method: Method,
    /// After the base URL; `{TOKEN}` and `{TICKET}` are filled from the
    /// environment (`TOKEN`, `TICKET`).
    pub path: &'static str,
    /// Query parameters of a GET, form fields of a POST; values may hold
    /// `{TICKET}`.
    pub params: &'static [(&'static str, &'static str)],
    /// The parameters in words: name, meaning.
    pub parameters: &'static [(&'static str, &'static str)],
    pub status: u16,
    /// The answer, as the demo gives it.
    pub answer: &'static str,
    /// What to export from the answer for the next calls.
    pub exports: Option<(&'static str, &'static str)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// Keys whose values differ run to run (new ids, tokens, clocks); the
/// comparison checks only that they are there.
pub const VOLATILE_KEYS: [&str; 10] = [
    "access_token",
    "expires_at",
    "ticket_id",
    "comment_id",
    "id",
    "created_at",
    "updated_at",
    "commented_on",
    "delivered_at",
    "url",
];

pub const EXAMPLES: &[Example] = &[
    Example {
        id: "authorize",
        title: "Authorize",
        about: "Exchanges the application's key and secret for an access token. Every later \
            call carries the token in its path and the same two headers. Save the token: \
            <code>export TOKEN=…</code>.",
        method: Method::Post,
        path: "/api/authorize",
        params: &[],
        parameters: &[
            ("api_key (header)", "the application's public key"),
            ("api_secret (header)", "the application's secret"),
        ],
        status: 200,
        answer: r#"{"access_token":"hS0Nf0ZxS2k8i8kS1Fz0QwWn2bN7mV4qYt1uR6eL3cA","expires_at":"2026/11/29 20:00:00 -0800","message":"Authorized Successfully, Use the Provided Access Token for Future Requests. Thanks for connecting with Example Provider","status":true}"#,
        exports: Some(("TOKEN", "access_token")),
    },
    Example {
        id: "provider_categories",
        title: "Provider categories",
        about: "The categories a ticket rates, each <code>Issue</code>, <code>No Issue</code> \
            or <code>Potential Issue</code>.",
        method: Method::Get,
        path: "/api/{TOKEN}/provider_categories",
        params: &[],
        parameters: &[],
        status: 200,
        answer: r#"{"categories":[{"id":19,"name":"Clinical Edit"},{"id":22,"name":"Emergency"},{"id":33,"name":"Activity Level"},{"id":34,"name":"Weight Gain"}],"status":"Success"}"#,
        exports: None,
    },
    Example {
        id: "create_ticket",
        title: "Create a ticket",
        about: "Raises a ticket about a resident, rating categories as <code>category_&lt;id&gt;</code> \
            with their comments as <code>category_comments_&lt;id&gt;</code>. The flags choose \
            who is told, exactly: here only the primary physician, by email. With no flag, the \
            provider's rules decide (High and Exception tell everyone by every way they \
            consented to). Save the id: <code>export TICKET=…</code>.",
        method: Method::Post,
        path: "/api/{TOKEN}/create_ticket",
        params: &[
            ("title", "Found on the floor at night"),
            ("resident_id", "889283349"),
            ("urgency_status", "High"),
            ("category_22", "Issue"),
            ("category_comments_22", "No injury seen; vitals normal"),
            ("general_comments", "Family to be called in the morning"),
            ("sent_to_primary", "1"),
            ("email", "1"),
        ],
        parameters: &[
            ("title", "what happened (required)"),
            ("resident_id", "whom it is about (required)"),
            ("urgency_status", "No Issue, Low, Normal (default), High or Exception"),
            ("category_<id>", "Issue, No Issue or Potential Issue"),
            ("category_comments_<id>", "a comment on that rating"),
            ("general_comments", "a comment on the ticket"),
            (
                "sent_to_family, sent_to_primary, sent_to_healthcare_pro",
                "whom to tell (1 or 0); none sent: the provider's rules",
            ),
            ("email, sms", "how to tell them (1 or 0); none sent: see above"),
            ("attachments[]", "files, in a multipart body"),
        ],
        status: 200,
        answer: r#"{"message":"Ticket Created Successfully!!","status":"Success","ticket_id":302}"#,
        exports: Some(("TICKET", "ticket_id")),
    },
    Example {
        id: "ticket_detail",
        title: "Ticket detail",
        about: "A ticket with its ratings (keyed by category id, each rating's comments as \
            <code>comment&lt;id&gt;</code>), general comments, attachments and the \
            notifications it caused (by role and channel, never by name).",
        method: Method::Get,
        path: "/api/{TOKEN}/ticket_detail",
        params: &[("id", "{TICKET}")],
        parameters: &[("id", "the ticket's id")],
        status: 200,
        answer: r#"{"status":"Success","ticket_with_details":{"categories":{"22":{"comment4":{"commented_by":"Sample","commented_on":"2026/11/28 20:37:28 -0800","title":"No injury seen; vitals normal"},"status":"issue","title":"Emergency"}},"general_comments":[{"commented_by":"Sample","commented_on":"2026/11/28 20:37:28 -0800","id":3,"title":"Family to be called in the morning"}],"notifications":[{"ack_required":true,"acknowledged_at":null,"acknowledged_by":null,"acknowledged_via":null,"attempts":0,"channel":"email","created_at":"2026/11/28 20:37:28 -0800","delivered_at":null,"escalation_level":0,"event":"ticket_created","id":1,"reason":null,"role":"primary_physician","status":"pending","ticket_id":302}],"ticket":{"created_at":"2026/11/28 20:37:28 -0800","email":true,"employee_id":81987870,"end_date":null,"id":302,"resident_id":889283349,"sent_to_family":false,"sent_to_healthcare_pro":false,"sentsent_to_primary":true,"sms":false,"start_date":null,"state":false,"ticket_status":"New","ticket_type":null,"title":"Found on the floor at night","updated_at":"2026/11/28 20:37:28 -0800","urgency_status_id":4},"ticket_attachments":[]}}"#,
        exports: None,
    },
    Example {
        id: "update_status",
        title: "Update a ticket's status",
        about: "Moves a ticket through its workflow: New, Open, In Progress, Resolved, Closed, Reopen.",
        method: Method::Post,
        path: "/api/{TOKEN}/update_status",
        params: &[("id", "{TICKET}"), ("status", "In Progress")],
        parameters: &[("id", "the ticket's id"), ("status", "the new status")],
        status: 200,
        answer: r#"{"message":"Status Updated Successfully!!","status":"Success"}"#,
        exports: None,
    },
    Example {
        id: "create_comment",
        title: "Comment on a ticket",
        about: "A general comment, or with <code>category_id</code> a comment on that rating.",
        method: Method::Post,
        path: "/api/{TOKEN}/create_comment",
        params: &[("ticket_id", "{TICKET}"), ("comment", "Daughter called back; visiting today")],
        parameters: &[
            ("ticket_id", "the ticket's id"),
            ("comment", "the text"),
            ("category_id", "optional: the rating it is about"),
        ],
        status: 200,
        answer: r#"{"comment_id":4,"message":"Comment created Successfully!!","status":"Success"}"#,
        exports: None,
    },
    Example {
        id: "tickets",
        title: "List tickets",
        about: "The provider's tickets in id order: all of them, streamed, or a page with \
            <code>page</code> and <code>per_page</code> (or <code>after_id</code>). Filters: \
            <code>ticket_status</code>, <code>resident_id</code>, <code>updated_since</code>.",
        method: Method::Get,
        path: "/api/{TOKEN}/tickets",
        params: &[("ticket_status", "In Progress"), ("per_page", "1")],
        parameters: &[
            ("ticket_status", "only tickets in this status"),
            ("resident_id", "only tickets about this resident"),
            ("updated_since", "only tickets changed since, e.g. 2016/02/12 03:00:34 -0800"),
            ("page, per_page", "a page (at most 500 per page)"),
        ],
        status: 200,
        answer: r#"{"status":"Success","page":1,"per_page":1,"ticket":[{"id":302,"title":"Found on the floor at night","resident_id":889283349,"employee_id":81987870,"urgency_status_id":4,"ticket_status":"In Progress","ticket_type":null,"state":false,"sms":false,"email":true,"sent_to_family":false,"sent_to_healthcare_pro":false,"sentsent_to_primary":true,"start_date":null,"end_date":null,"created_at":"2026/11/28 20:37:28 -0800","updated_at":"2026/11/28 20:37:28 -0800"}]}"#,
        exports: None,
    },
    Example {
        id: "resident_contacts",
        title: "A resident's contacts",
        about: "Who is told about a resident, and on which channels they consented to.",
        method: Method::Get,
        path: "/api/{TOKEN}/resident_contacts",
        params: &[("resident_id", "501333996")],
        parameters: &[("resident_id", "the resident's id")],
        status: 200,
        answer: r#"{"contacts":[{"email":"family.501333996@example.org","email_consent":true,"id":4,"name":"Family of resident 501333996","phone":"+15555550110","resident_id":501333996,"role":"family","sms_consent":true},{"email":"primary_physician.501333996@example.org","email_consent":true,"id":5,"name":"Physician of resident 501333996","phone":"+15555550111","resident_id":501333996,"role":"primary_physician","sms_consent":true},{"email":"healthcare_professional.501333996@example.org","email_consent":true,"id":6,"name":"Nurse of resident 501333996","phone":"+15555550112","resident_id":501333996,"role":"healthcare_professional","sms_consent":true}],"status":"Success"}"#,
        exports: None,
    },
    Example {
        id: "errors",
        title: "Errors",
        about: "Every refusal has <code>\"status\": false</code>, a message naming the \
            parameter as it was sent, and an HTTP status: 401 for credentials, 404 for an \
            id that is not the provider's (exactly like a missing one), 413 for a body over \
            the limits, 422 for a parameter that breaks a rule, 429 when throttled (with \
            <code>Retry-After</code>).",
        method: Method::Post,
        path: "/api/{TOKEN}/create_ticket",
        params: &[("resident_id", "889283349")],
        parameters: &[],
        status: 422,
        answer: r#"{"message":"title/regarding required","status":false}"#,
        exports: None,
    },
];

/// The URL of an example with the environment's placeholders as each
/// language writes them.
fn fill(text: &str, token: &str, ticket: &str) -> String {
    text.replace("{TOKEN}", token).replace("{TICKET}", ticket)
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

impl Example {
    /// The path as the page shows it, with the shell's variables.
    pub fn display_path(&self) -> String {
        fill(self.path, "$TOKEN", "$TICKET")
    }

    pub fn shell(&self) -> String {
        let url = fill(self.path, "$TOKEN", "$TICKET");
        let mut lines = vec![format!(
            "curl -s{} \"$BASE{url}\" \\\n  -H \"api_key: $API_KEY\" -H \"api_secret: $API_SECRET\"",
            match self.method {
                Method::Get => if self.params.is_empty() { "" } else { " -G" },
                Method::Post => " -X POST",
            }
        )];
        for (name, value) in self.params {
            let value = if value.contains("{TICKET}") {
                format!("\"{name}={}\"", fill(value, "$TOKEN", "$TICKET"))
            } else {
                shell_quote(&format!("{name}={value}"))
            };
            lines.push(format!("  --data-urlencode {value}"));
        }
        lines.join(" \\\n")
    }

    pub fn ruby(&self) -> String {
        let url = fill(
            self.path,
            "#{ENV.fetch(\"TOKEN\")}",
            "#{ENV.fetch(\"TICKET\")}",
        );
        let pairs: Vec<String> = self
            .params
            .iter()
            .map(|(name, value)| {
                let value = if value.contains("{TICKET}") {
                    "ENV.fetch(\"TICKET\")".to_owned()
                } else {
                    format!("{value:?}")
                };
                format!("\"{name}\" => {value}")
            })
            .collect();
        let form = pairs.join(", ");
        let mut code = vec![
            "require \"net/http\"".to_owned(),
            String::new(),
            format!("uri = URI(\"#{{ENV.fetch(\"BASE\")}}{url}\")"),
        ];
        match self.method {
            Method::Get => {
                if !pairs.is_empty() {
                    code.push(format!("uri.query = URI.encode_www_form({form})"));
                }
                code.push("request = Net::HTTP::Get.new(uri)".to_owned());
            }
            Method::Post => {
                code.push("request = Net::HTTP::Post.new(uri)".to_owned());
                if !pairs.is_empty() {
                    code.push(format!("request.set_form_data({form})"));
                }
            }
        }
        code.push("request[\"api_key\"] = ENV.fetch(\"API_KEY\")".to_owned());
        code.push("request[\"api_secret\"] = ENV.fetch(\"API_SECRET\")".to_owned());
        code.push(
            "response = Net::HTTP.start(uri.host, uri.port, use_ssl: uri.scheme == \"https\") { |http| http.request(request) }"
                .to_owned(),
        );
        code.push("puts response.body".to_owned());
        code.join("\n")
    }

    pub fn python(&self) -> String {
        let url = fill(self.path, "{os.environ['TOKEN']}", "{os.environ['TICKET']}");
        let pairs: Vec<String> = self
            .params
            .iter()
            .map(|(name, value)| {
                let value = if value.contains("{TICKET}") {
                    "os.environ[\"TICKET\"]".to_owned()
                } else {
                    format!("{value:?}")
                };
                format!("\"{name}\": {value}")
            })
            .collect();
        let (function, argument) = match self.method {
            Method::Get => ("get", "params"),
            Method::Post => ("post", "data"),
        };
        let mut code = vec![
            "import os".to_owned(),
            "import requests".to_owned(),
            String::new(),
            format!("response = requests.{function}("),
            format!("    f\"{{os.environ['BASE']}}{url}\","),
            "    headers={\"api_key\": os.environ[\"API_KEY\"], \"api_secret\": os.environ[\"API_SECRET\"]},".to_owned(),
        ];
        if !pairs.is_empty() {
            code.push(format!("    {argument}={{{}}},", pairs.join(", ")));
        }
        code.push(")".to_owned());
        code.push("print(response.text)".to_owned());
        code.join("\n")
    }
}
