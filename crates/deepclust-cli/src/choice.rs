//! Library enums as command-line values. Each enum that a flag takes publishes a `CHOICES`
//! table `(value, name, help)` beside its definition, so the flag's accepted names and their
//! help come from the library and no mirror enum repeats them here.

use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::{ContextKind, ContextValue, ErrorKind};

/// A `(value, name, help)` table as the library crates publish it.
pub type Choices<T> = &'static [(T, &'static str, &'static str)];

/// The value parser of a flag that takes one of `choices` (`value_parser = one_of(X::CHOICES)`).
pub fn one_of<T: Clone + Send + Sync + 'static>(choices: Choices<T>) -> OneOf<T> {
    OneOf(choices)
}

#[derive(Clone)]
pub struct OneOf<T: 'static>(Choices<T>);

impl<T: Clone + Send + Sync + 'static> TypedValueParser for OneOf<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let text = value.to_string_lossy();
        if let Some((v, _, _)) = self.0.iter().find(|(_, name, _)| *name == text) {
            return Ok(v.clone());
        }
        let mut err = clap::Error::new(ErrorKind::InvalidValue).with_cmd(cmd);
        if let Some(arg) = arg {
            err.insert(
                ContextKind::InvalidArg,
                ContextValue::String(arg.to_string()),
            );
        }
        err.insert(
            ContextKind::InvalidValue,
            ContextValue::String(text.into_owned()),
        );
        err.insert(
            ContextKind::ValidValue,
            ContextValue::Strings(self.0.iter().map(|(_, n, _)| (*n).to_string()).collect()),
        );
        Err(err)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.0.iter().map(|(_, name, help)| {
            PossibleValue::new(*name).help(*help)
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Colour {
        Red,
        Blue,
    }
    const COLOURS: Choices<Colour> =
        &[(Colour::Red, "red", "warm"), (Colour::Blue, "blue", "cold")];

    #[derive(Parser)]
    struct Flags {
        #[arg(long, value_parser = one_of(COLOURS), default_value = "red")]
        colour: Colour,
        #[arg(long, value_parser = one_of(COLOURS), value_delimiter = ',')]
        many: Vec<Colour>,
    }

    #[test]
    fn parses_names_lists_defaults_and_names_the_valid_values_on_error() {
        let f = Flags::try_parse_from(["x", "--many", "blue,red"]).expect("parse");
        assert_eq!(f.colour, Colour::Red);
        assert_eq!(f.many, vec![Colour::Blue, Colour::Red]);
        let err = Flags::try_parse_from(["x", "--colour", "green"])
            .err()
            .expect("green is refused")
            .to_string();
        assert!(
            err.contains("green") && err.contains("red") && err.contains("blue"),
            "{err}"
        );
    }
}
