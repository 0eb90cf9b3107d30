//! The profile an OAuth provider's userinfo answer describes, read strictly (OpenID Connect Core
//! §5.1, §5.7): only an explicit boolean `email_verified: true` makes the e-mail trustworthy, and
//! every claim Tutti keeps is checked or cleaned before it reaches the database or a page.
use serde_json::Value;

use app::auth::ssr::ExternalProfile;

/// Why a userinfo answer cannot sign anyone in.
#[derive(Debug, PartialEq, Eq)]
pub enum Problem {
    /// The provider does not vouch for the e-mail address.
    Unverified,
    /// A claim Tutti needs is missing or not what the specification says; names it for the log.
    Malformed(&'static str),
}

const MAX_SUBJECT: usize = 255;
const MAX_EMAIL: usize = 254;
const MAX_NAME: usize = 100;
const MAX_PICTURE: usize = 2048;

pub fn profile(provider: &str, claims: &Value) -> Result<ExternalProfile, Problem> {
    let claims = claims.as_object().ok_or(Problem::Malformed("answer is not a JSON object"))?;
    let text = |key: &str| claims.get(key).and_then(Value::as_str);
    let subject = text("sub")
        .filter(|s| !s.is_empty() && s.len() <= MAX_SUBJECT && s.chars().all(|c| c.is_ascii_graphic()))
        .ok_or(Problem::Malformed("subject (sub) is missing or invalid"))?;
    let email = text("email")
        .filter(|e| plausible_email(e))
        .ok_or(Problem::Malformed("e-mail address is missing or invalid"))?;
    // A string "true", a number or an absent claim is not a verification.
    if claims.get("email_verified") != Some(&Value::Bool(true)) {
        return Err(Problem::Unverified);
    }
    let display_name = text("name")
        .and_then(app::text::clean_line)
        .map(|n| n.chars().take(MAX_NAME).collect::<String>())
        .unwrap_or_else(|| email.to_string());
    let avatar_url =
        text("picture").filter(|p| p.len() <= MAX_PICTURE).and_then(|p| url::Url::parse(p).ok()).filter(|u| {
            matches!(u.scheme(), "https" | "http")
                && u.host_str().is_some()
                && u.username().is_empty()
                && u.password().is_none()
        });
    Ok(ExternalProfile {
        provider: provider.to_string(),
        subject: subject.to_string(),
        email: email.to_string(),
        email_verified: true,
        display_name,
        avatar_url: avatar_url.map(String::from),
    })
}

/// One `@` between a local part and a dotted domain, printable ASCII or other letters, no spaces.
fn plausible_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    e.len() <= MAX_EMAIL
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && e.chars().all(|c| !c.is_whitespace() && !c.is_control() && !app::text::is_disallowed(c, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with(verified: Value) -> Value {
        json!({"sub": "1234", "email": "Ada@Example.org", "email_verified": verified, "name": "Ada"})
    }

    #[test]
    fn only_a_boolean_true_verifies_the_email() {
        assert!(profile("google", &with(json!(true))).is_ok());
        for not in [json!(false), json!("true"), json!("True"), json!("TRUE"), json!(1), json!(null), json!({})] {
            assert_eq!(profile("google", &with(not.clone())).unwrap_err(), Problem::Unverified, "{not}");
        }
        let mut absent = with(json!(true));
        absent.as_object_mut().unwrap().remove("email_verified");
        assert_eq!(profile("google", &absent).unwrap_err(), Problem::Unverified);
    }

    #[test]
    fn claims_are_checked_and_cleaned() {
        let p = profile(
            "google",
            &json!({"sub": "s", "email": "a@b.org", "email_verified": true,
                    "name": "Eve\u{202E}lin\u{0}\n", "picture": "javascript:alert(1)"}),
        )
        .unwrap();
        assert_eq!(p.display_name, "Evelin");
        assert_eq!(p.avatar_url, None);
        for bad in [
            json!({"sub": "", "email": "a@b.org", "email_verified": true}),
            json!({"sub": "a b", "email": "a@b.org", "email_verified": true}),
            json!({"sub": "s", "email": "a@b\u{0}.org", "email_verified": true}),
            json!({"sub": "s", "email": "not-an-email", "email_verified": true}),
            json!({"sub": "s", "email": ["a@b.org"], "email_verified": true}),
            json!(["not", "an", "object"]),
        ] {
            assert!(matches!(profile("google", &bad), Err(Problem::Malformed(_))), "{bad}");
        }
        let p =
            profile("google", &json!({"sub": "s", "email": "a@b.org", "email_verified": true, "name": "\u{1}\u{2}"}))
                .unwrap();
        assert_eq!(p.display_name, "a@b.org", "a name that cleans to nothing falls back to the e-mail");
    }
}
