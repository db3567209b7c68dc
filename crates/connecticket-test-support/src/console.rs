//! A browser's part in the console, without a browser: a signed-in
//! session's cookie, the CSRF token of the last page, forms posted as a
//! browser posts them, redirects observed rather than followed.

use reqwest::StatusCode;

use crate::TestApp;

/// Every demo console account's password.
pub const DEMO_PASSWORD: &str = connecticket_domain::console::password::DEMO_PASSWORD;

/// One answer of the console.
pub struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Where a redirect points.
    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    /// The first CSRF token a form on this page carries.
    pub fn csrf(&self) -> Option<String> {
        field_value(&self.body, "csrf")
    }

    /// The `Set-Cookie` value for a cookie this answer sets.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// The text of the first `role="alert"` notice.
    pub fn alert(&self) -> Option<String> {
        let start = self.body.find("role=\"alert\">")? + "role=\"alert\">".len();
        let end = self.body[start..].find('<')? + start;
        Some(self.body[start..end].to_owned())
    }
}

/// The value of the first `name="…" value="…"` input.
pub fn field_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// A console client: its session cookie (none before sign-in).
#[derive(Clone)]
pub struct Console {
    pub base: String,
    http: reqwest::Client,
    pub session: Option<String>,
    /// The device cookie a sign-in set: this browser is one the account
    /// signed in on.
    pub device: Option<String>,
    /// A board display's device token: this client is a wall screen.
    pub display: Option<String>,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
}

/// The cookie's value in a `Set-Cookie` header value.
pub fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, value)| value.to_owned())
        .unwrap_or_default()
}

impl Console {
    pub fn new(base: &str) -> Self {
        Console {
            base: base.to_owned(),
            http: client(),
            session: None,
            device: None,
            display: None,
        }
    }

    /// The same session, talking to another server (an instance on the
    /// same database).
    pub fn at(&self, base: &str) -> Self {
        Console {
            base: base.to_owned(),
            ..self.clone()
        }
    }

    pub fn of(app: &TestApp) -> Self {
        Console::new(&app.base)
    }

    /// The same console client, its connections made from `local` (a
    /// loopback address of its own, to be another client to the server).
    pub fn from_address(self, local: std::net::IpAddr) -> Self {
        Console {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .local_address(local)
                .build()
                .expect("a client"),
            ..self
        }
    }

    /// Signs in as the demo account with this address.
    pub async fn demo(app: &TestApp, email: &str) -> Self {
        let mut console = Console::of(app);
        let page = console.sign_in(email, DEMO_PASSWORD, None).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "sign in: {}", page.body);
        console
    }

    fn cookies(&self, extra: Option<(&str, &str)>) -> String {
        let mut cookies = Vec::new();
        if let Some(session) = &self.session {
            cookies.push(format!("ct_session={session}"));
        }
        if let Some(device) = &self.device {
            cookies.push(format!("ct_device={device}"));
        }
        if let Some(display) = &self.display {
            cookies.push(format!("ct_display={display}"));
        }
        if let Some((name, value)) = extra {
            cookies.push(format!("{name}={value}"));
        }
        cookies.join("; ")
    }

    async fn answer(response: reqwest::Response) -> Page {
        Page {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap_or_default(),
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        self.get_with(path, &[]).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Page {
        let mut request = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookies(None));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Self::answer(request.send().await.expect("GET")).await
    }

    /// Follows a form's redirect as a browser would, carrying the
    /// one-request cookie it set (`ct_shown_once`).
    pub async fn follow(&self, answer: &Page) -> Page {
        assert_eq!(
            answer.status,
            StatusCode::SEE_OTHER,
            "a redirect: {}",
            answer.body
        );
        let to = answer.location().expect("a Location").to_owned();
        let mut request = self.http.get(format!("{}{to}", self.base));
        let carried = answer
            .set_cookie("ct_shown_once")
            .map(|set| cookie_value(&set));
        let cookies = match &carried {
            Some(value) => self.cookies(Some(("ct_shown_once", value))),
            None => self.cookies(None),
        };
        request = request.header("cookie", cookies);
        Self::answer(request.send().await.expect("GET")).await
    }

    /// Posts a form as the page at `form_page` would: with that page's
    /// CSRF token.
    pub async fn submit(&self, form_page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let page = self.get(form_page).await;
        let csrf = page
            .csrf()
            .unwrap_or_else(|| panic!("no form on {form_page}: {}", page.body));
        let mut fields = fields.to_vec();
        fields.push(("csrf", &csrf));
        self.post(action, &fields).await
    }

    /// Posts exactly these fields.
    pub async fn post(&self, action: &str, fields: &[(&str, &str)]) -> Page {
        let request = self
            .http
            .post(format!("{}{action}", self.base))
            .header("cookie", self.cookies(None))
            .form(fields);
        Self::answer(request.send().await.expect("POST")).await
    }

    /// Posts a multipart form (a file input included, as browsers send it).
    pub async fn post_multipart(&self, action: &str, form: reqwest::multipart::Form) -> Page {
        let request = self
            .http
            .post(format!("{}{action}", self.base))
            .header("cookie", self.cookies(None))
            .multipart(form);
        Self::answer(request.send().await.expect("POST")).await
    }

    /// The sign-in form, then its submission; keeps the session on success.
    pub async fn sign_in(&mut self, email: &str, password: &str, code: Option<&str>) -> Page {
        let form = self.get("/console/sign-in").await;
        let token = form.csrf().expect("the sign-in form's token");
        let mut fields = vec![
            ("email", email),
            ("password", password),
            ("csrf", token.as_str()),
        ];
        if let Some(code) = code {
            fields.push(("code", code));
        }
        let request = self
            .http
            .post(format!("{}/console/sign-in", self.base))
            .header("cookie", self.cookies(Some(("ct_sign_in", &token))))
            .form(&fields);
        let page = Self::answer(request.send().await.expect("sign in")).await;
        if let Some(set) = page.set_cookie("ct_session") {
            self.session = Some(cookie_value(&set));
        }
        if let Some(set) = page.set_cookie("ct_device") {
            self.device = Some(cookie_value(&set));
        }
        page
    }

    /// Accepts an invitation link's form with this password.
    pub async fn accept_invitation(&self, path: &str, password: &str) -> Page {
        let form = self.get(path).await;
        let Some(token) = form.csrf() else {
            return form;
        };
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", format!("ct_sign_in={token}"))
            .form(&[("password", password), ("csrf", token.as_str())]);
        Self::answer(request.send().await.expect("accept")).await
    }
}
