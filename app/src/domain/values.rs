//! Parsed values: each is checked once where it enters, so code past that point cannot hold an
//! invalid one. The messages are what a person reads when a value is refused.

/// A value that does not fit its type, with the words a person acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid(pub String);

/// A title or name: trimmed, 1 to 200 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let t = text.trim();
        if t.is_empty() || t.chars().count() > 200 {
            return Err(Invalid("Give it a title of 1 to 200 characters.".into()));
        }
        Ok(Title(t.to_string()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A tempo in beats per minute, 20 to 400.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tempo(f64);

impl Tempo {
    pub fn parse(bpm: f64) -> Result<Self, Invalid> {
        if (20.0..=400.0).contains(&bpm) {
            Ok(Tempo(bpm))
        } else {
            Err(Invalid("The tempo must be 20 to 400 BPM.".into()))
        }
    }

    pub fn bpm(self) -> f64 {
        self.0
    }
}

/// A meter: 1 to 32 beats of a whole, half, quarter, … 32nd note.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meter {
    beats: i32,
    unit: i32,
}

impl Meter {
    pub fn parse(beats: i32, unit: i32) -> Result<Self, Invalid> {
        if !(1..=32).contains(&beats) || ![1, 2, 4, 8, 16, 32].contains(&unit) {
            return Err(Invalid("The meter must be 1–32 beats of a 1, 2, 4, 8, 16 or 32 note.".into()));
        }
        Ok(Meter { beats, unit })
    }

    pub fn beats(self) -> i32 {
        self.beats
    }

    pub fn unit(self) -> i32 {
        self.unit
    }
}

/// Bars of count-in before a take: 0 to 8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountIn(i32);

impl CountIn {
    pub fn parse(bars: i32) -> Result<Self, Invalid> {
        if (0..=8).contains(&bars) {
            Ok(CountIn(bars))
        } else {
            Err(Invalid("The count-in must be 0 to 8 bars.".into()))
        }
    }

    pub fn bars(self) -> i32 {
        self.0
    }
}

/// Text trimmed and at most `max` characters, refused with `message` otherwise.
fn bounded(text: &str, min: usize, max: usize, message: &str) -> Result<String, Invalid> {
    let t = text.trim();
    let n = t.chars().count();
    if n < min || n > max {
        return Err(Invalid(message.into()));
    }
    Ok(t.to_string())
}

/// A campaign's name: trimmed, 1 to 120 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CampaignName(String);

impl CampaignName {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        bounded(text, 1, 120, "Give the campaign a name of 1 to 120 characters.").map(CampaignName)
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A free-text description (plain or Markdown): trimmed, at most 5,000 characters, may be empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        bounded(text, 0, 5_000, "Keep the description under 5,000 characters.").map(Description)
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A campaign's instructions (Markdown): trimmed, at most 20,000 characters, may be empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instructions(String);

impl Instructions {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        bounded(text, 0, 20_000, "Keep the instructions under 20,000 characters.").map(Instructions)
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The share of gold tasks mixed into a campaign's batches: 0 to 0.5.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GoldRate(f64);

impl GoldRate {
    pub fn parse(rate: f64) -> Result<Self, Invalid> {
        if (0.0..=0.5).contains(&rate) {
            Ok(GoldRate(rate))
        } else {
            Err(Invalid("The gold-task rate must be between 0 and 0.5.".into()))
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

/// How often an annotator is shown their statistics: every 1 to 1000 submissions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatsEvery(i32);

impl StatsEvery {
    pub fn parse(n: i32) -> Result<Self, Invalid> {
        if (1..=1000).contains(&n) {
            Ok(StatsEvery(n))
        } else {
            Err(Invalid("Show stats every 1 to 1000 submissions.".into()))
        }
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

/// The share of each clip an annotator must hear before answering: 0 (no minimum) to 1 (all of it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ListenShare(f64);

impl ListenShare {
    pub fn parse(share: f64) -> Result<Self, Invalid> {
        if (0.0..=1.0).contains(&share) {
            Ok(ListenShare(share))
        } else {
            Err(Invalid("The minimum listening share must be between 0 (no minimum) and 1 (the whole clip).".into()))
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

/// What annotators read about an instrument: plain text, trimmed, at most 280 characters, may be empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstrumentDescription(String);

impl InstrumentDescription {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        bounded(text, 0, 280, "Keep the instrument's description to 280 characters or fewer.")
            .map(InstrumentDescription)
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A track's mixer settings: gain −60 to +12 dB, pan −1 (left) to 1 (right).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mixer;

impl Mixer {
    pub fn gain_db(db: f64) -> Result<f64, Invalid> {
        if (-60.0..=12.0).contains(&db) {
            Ok(db)
        } else {
            Err(Invalid("Gain must be between −60 and +12 dB.".into()))
        }
    }

    pub fn pan(pan: f64) -> Result<f64, Invalid> {
        if (-1.0..=1.0).contains(&pan) {
            Ok(pan)
        } else {
            Err(Invalid("Pan must be between −1 (left) and 1 (right).".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{CampaignName, CountIn, Description, GoldRate, Instructions, Meter, Mixer, StatsEvery, Tempo, Title};

    #[test]
    fn parsed_values_hold_only_what_fits() {
        assert_eq!(Title::parse("  Song  ").unwrap().into_string(), "Song");
        assert!(Title::parse("   ").is_err() && Title::parse(&"x".repeat(201)).is_err());
        assert_eq!(Title::parse(&"é".repeat(200)).unwrap().into_string().chars().count(), 200);
        assert_eq!(Tempo::parse(20.0).unwrap().bpm(), 20.0);
        assert!(Tempo::parse(19.9).is_err() && Tempo::parse(400.1).is_err() && Tempo::parse(f64::NAN).is_err());
        assert_eq!((Meter::parse(7, 8).unwrap().beats(), Meter::parse(7, 8).unwrap().unit()), (7, 8));
        assert!(Meter::parse(0, 4).is_err() && Meter::parse(4, 3).is_err() && Meter::parse(33, 4).is_err());
        assert_eq!(CountIn::parse(0).unwrap().bars(), 0);
        assert!(CountIn::parse(-1).is_err() && CountIn::parse(9).is_err());
        assert_eq!(CampaignName::parse(" Birds ").unwrap().into_string(), "Birds");
        assert!(CampaignName::parse("").is_err() && CampaignName::parse(&"x".repeat(121)).is_err());
        assert_eq!(Description::parse("  ").unwrap().into_string(), "");
        assert!(Description::parse(&"x".repeat(5_001)).is_err() && Description::parse(&"x".repeat(5_000)).is_ok());
        assert!(Instructions::parse(&"x".repeat(20_001)).is_err() && Instructions::parse(&"x".repeat(20_000)).is_ok());
        assert_eq!(GoldRate::parse(0.5).unwrap().get(), 0.5);
        assert!(
            GoldRate::parse(-0.01).is_err() && GoldRate::parse(0.51).is_err() && GoldRate::parse(f64::NAN).is_err()
        );
        assert_eq!(StatsEvery::parse(1).unwrap().get(), 1);
        assert!(StatsEvery::parse(0).is_err() && StatsEvery::parse(1001).is_err());
        assert_eq!((Mixer::gain_db(-60.0), Mixer::pan(1.0)), (Ok(-60.0), Ok(1.0)));
        assert!(Mixer::gain_db(12.1).is_err() && Mixer::gain_db(f64::NAN).is_err() && Mixer::pan(-1.01).is_err());
    }

    #[test]
    fn listening_shares_and_instrument_descriptions_hold_only_what_fits() {
        use super::{InstrumentDescription, ListenShare};
        assert_eq!((ListenShare::parse(0.0).unwrap().get(), ListenShare::parse(1.0).unwrap().get()), (0.0, 1.0));
        assert!(ListenShare::parse(-0.01).is_err() && ListenShare::parse(1.01).is_err());
        assert!(ListenShare::parse(f64::NAN).is_err() && ListenShare::parse(f64::INFINITY).is_err());
        assert_eq!(InstrumentDescription::parse("  Bowed  ").unwrap().into_string(), "Bowed");
        assert!(InstrumentDescription::parse(&"é".repeat(280)).is_ok());
        assert!(InstrumentDescription::parse(&"x".repeat(281)).is_err());
    }
}
