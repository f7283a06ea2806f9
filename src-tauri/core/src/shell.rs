//! The only way a remote command is made: typed arguments, each quoted for POSIX `sh`.
//! Nothing from the UI is ever pasted into a command line; it becomes one quoted word.

use std::fmt;

/// A command to run on the host: a program with arguments, in a working directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteCommand {
    dir: Option<String>,
    words: Vec<String>,
}

impl RemoteCommand {
    pub fn new(program: &str) -> Self {
        RemoteCommand {
            dir: None,
            words: vec![program.to_string()],
        }
    }

    pub fn arg(mut self, word: impl Into<String>) -> Self {
        self.words.push(word.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, words: I) -> Self {
        self.words.extend(words.into_iter().map(Into::into));
        self
    }

    /// Runs the command in `dir` (`cd DIR && ...`), as the policy's steps do.
    pub fn in_dir(mut self, dir: impl Into<String>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// The exact text sent to the host, also what the UI shows.
    pub fn render(&self) -> String {
        let command = self
            .words
            .iter()
            .map(|w| quote(w))
            .collect::<Vec<_>>()
            .join(" ");
        match &self.dir {
            Some(dir) => format!("cd {} && {command}", quote(dir)),
            None => command,
        }
    }
}

impl fmt::Display for RemoteCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// Quotes one word for POSIX `sh`. Plain words stay readable; anything else is wrapped
/// in single quotes, inside which `sh` interprets nothing.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_policy_command_readably() {
        let command = RemoteCommand::new("docker")
            .args(["compose", "--profile", "aws", "ps"])
            .in_dir("/home/ubuntu/automated-trading-platform");
        assert_eq!(
            command.render(),
            "cd /home/ubuntu/automated-trading-platform && docker compose --profile aws ps"
        );
    }

    #[test]
    fn hostile_words_become_one_inert_argument() {
        // Run through a real sh: every hostile word must come back as exactly one argument.
        let hostile = [
            "; touch /tmp/x",
            "$(id)",
            "`id`",
            "a && b",
            "it's",
            "",
            "\n",
            "*",
            "-rf",
        ];
        for word in hostile {
            let line = RemoteCommand::new("printf").arg("%s\\0").arg(word).render();
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(&line)
                .output()
                .unwrap();
            assert_eq!(
                String::from_utf8(out.stdout).unwrap(),
                format!("{word}\0"),
                "{line}"
            );
        }
    }
}
