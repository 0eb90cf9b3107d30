//! The licences audio and compositions carry (SPDX identifiers), and what each allows.
use serde::{Deserialize, Serialize};

use super::Invalid;

/// A licence a user can choose. Stored and sent as its SPDX identifier. The default is the server's
/// own default when it is not configured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text"))]
pub enum Licence {
    #[serde(rename = "CC0-1.0")]
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "CC0-1.0"))]
    Cc0,
    #[default]
    #[serde(rename = "CC-BY-4.0")]
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "CC-BY-4.0"))]
    CcBy,
    #[serde(rename = "CC-BY-SA-4.0")]
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "CC-BY-SA-4.0"))]
    CcBySa,
    #[serde(rename = "CC-BY-NC-4.0")]
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "CC-BY-NC-4.0"))]
    CcByNc,
    #[serde(rename = "CC-BY-NC-SA-4.0")]
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "CC-BY-NC-SA-4.0"))]
    CcByNcSa,
    #[serde(rename = "LicenseRef-All-Rights-Reserved")]
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "LicenseRef-All-Rights-Reserved"))]
    AllRightsReserved,
}

impl Licence {
    /// Every licence, in the order pickers list them.
    pub const ALL: [Licence; 6] =
        [Licence::Cc0, Licence::CcBy, Licence::CcBySa, Licence::CcByNc, Licence::CcByNcSa, Licence::AllRightsReserved];

    /// The SPDX identifier.
    pub fn id(self) -> &'static str {
        match self {
            Licence::Cc0 => "CC0-1.0",
            Licence::CcBy => "CC-BY-4.0",
            Licence::CcBySa => "CC-BY-SA-4.0",
            Licence::CcByNc => "CC-BY-NC-4.0",
            Licence::CcByNcSa => "CC-BY-NC-SA-4.0",
            Licence::AllRightsReserved => "LicenseRef-All-Rights-Reserved",
        }
    }

    /// What a person reads in a picker.
    pub fn name(self) -> &'static str {
        match self {
            Licence::Cc0 => "CC0 1.0 (public domain dedication)",
            Licence::CcBy => "CC BY 4.0",
            Licence::CcBySa => "CC BY-SA 4.0",
            Licence::CcByNc => "CC BY-NC 4.0",
            Licence::CcByNcSa => "CC BY-NC-SA 4.0",
            Licence::AllRightsReserved => "All rights reserved",
        }
    }

    /// Whether others may pass copies on (every Creative Commons licence does, with attribution
    /// where the licence asks for it).
    pub fn redistributable(self) -> bool {
        self != Licence::AllRightsReserved
    }

    /// An SPDX identifier, trimmed and in any case.
    pub fn parse(text: &str) -> Result<Licence, Invalid> {
        let t = text.trim();
        Licence::ALL.into_iter().find(|l| l.id().eq_ignore_ascii_case(t)).ok_or_else(|| {
            let known: Vec<_> = Licence::ALL.iter().map(|l| l.id()).collect();
            Invalid(format!("Unknown licence '{t}'. Choose one of: {}.", known.join(", ")))
        })
    }

    /// The licence chosen, or `default` when none was (absent or blank).
    pub fn chosen_or(text: Option<&str>, default: Licence) -> Result<Licence, Invalid> {
        match text.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => Licence::parse(t),
            None => Ok(default),
        }
    }
}

impl std::fmt::Display for Licence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::Licence;

    #[test]
    fn licences_parse_from_their_identifier_in_any_case_and_round_trip_through_json() {
        for l in Licence::ALL {
            assert_eq!(Licence::parse(&l.id().to_lowercase()), Ok(l));
            assert_eq!(serde_json::to_string(&l).unwrap(), format!("\"{}\"", l.id()));
            assert_eq!(serde_json::from_str::<Licence>(&format!("\"{}\"", l.id())).unwrap(), l);
        }
        let e = Licence::parse("GPL-3.0").unwrap_err().0;
        assert!(e.contains("Unknown licence 'GPL-3.0'") && e.contains("CC0-1.0"), "{e}");
        assert_eq!(Licence::chosen_or(Some("  "), Licence::CcBy), Ok(Licence::CcBy));
        assert_eq!(Licence::chosen_or(None, Licence::Cc0), Ok(Licence::Cc0));
        assert!(!Licence::AllRightsReserved.redistributable() && Licence::CcByNcSa.redistributable());
    }
}
