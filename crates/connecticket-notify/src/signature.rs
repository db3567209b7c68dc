//! The SMS gateway's request signature, as Twilio signs its webhooks:
//! base64 of HMAC-SHA1, under the account's auth token, of the full URL
//! the gateway called followed by every POST parameter's name and value,
//! sorted by name. Sent as `X-Twilio-Signature`.

use base64::Engine as _;
use connecticket_domain::notify::GatewaySignature;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

pub struct TwilioSignature {
    auth_token: String,
}

impl TwilioSignature {
    pub fn new(auth_token: impl Into<String>) -> Self {
        TwilioSignature {
            auth_token: auth_token.into(),
        }
    }

    /// The auth token is the password of the gateway URL's credentials.
    pub fn from_gateway_url(url: &str) -> Option<Self> {
        let url = url::Url::parse(url).ok()?;
        url.password()
            .filter(|p| !p.is_empty())
            .map(|p| TwilioSignature::new(p.to_owned()))
    }

    pub fn sign(&self, url: &str, params: &[(String, String)]) -> String {
        let mut sorted: Vec<&(String, String)> = params.iter().collect();
        sorted.sort();
        let mut data = url.to_owned();
        for (name, value) in sorted {
            data.push_str(name);
            data.push_str(value);
        }
        // HMAC accepts a key of any length: this cannot fail.
        let mut mac = match Hmac::<Sha1>::new_from_slice(self.auth_token.as_bytes()) {
            Ok(mac) => mac,
            Err(_) => return String::new(),
        };
        mac.update(data.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }
}

impl GatewaySignature for TwilioSignature {
    fn verify(&self, url: &str, params: &[(String, String)], signature: &str) -> bool {
        let expected = self.sign(url, params);
        !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(signature.trim().as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_signature_matches_the_published_example() {
        // The example of Twilio's security documentation.
        let signer = TwilioSignature::new("12345");
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let fields = params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]);
        assert_eq!(signer.sign(url, &fields), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(signer.verify(url, &fields, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        assert!(!signer.verify(url, &fields, "1/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        assert!(!TwilioSignature::new("54321").verify(
            url,
            &fields,
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
    }

    #[test]
    fn the_token_comes_from_the_gateway_url() {
        let signer = TwilioSignature::from_gateway_url("https://AC1:tok@api.example/Messages.json");
        assert_eq!(signer.map(|s| s.auth_token), Some("tok".to_owned()));
        assert!(TwilioSignature::from_gateway_url("https://api.example/Messages.json").is_none());
    }
}
