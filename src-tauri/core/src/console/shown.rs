//! Output on its way to a person. What a service prints (its logs, a migration's
//! output, the health probe's answer) may hold `.env.aws`'s values, so it reaches a
//! window, a terminal or a deploy's page only as whole lines with those values taken
//! out, the way the checklist's evidence does. Whole lines, because a value split
//! across two chunks would slip past the redactor. Decisions (the commit a pull
//! brought, the review's hashes) are made on what the host said, never on this.

use crate::checks::redact::Redactor;
use crate::error::{Error, Result};
use crate::shell::RemoteCommand;
use crate::ssh::{CommandOutput, Connection, Deadline, StreamChunk};

use super::logs::lines::{LineSplitter, Source};

/// A redactor for the values of the env file `read_env` prints; one that knows none if
/// there is no such file, and one that withholds every output if the file could not be
/// read (a timeout, no permission, an answer that is not the read's): its values are
/// unknown then, and any output could hold one. Only a lost connection is an error.
pub(super) async fn secrets_of(
    connection: &Connection,
    read_env: &RemoteCommand,
    deadline: Deadline,
) -> Result<Redactor> {
    let output = match connection.exec(read_env, deadline).await {
        Ok(output) => output,
        Err(lost @ Error::ConnectionLost { .. }) => return Err(lost),
        Err(other) => {
            tracing::warn!("the env file could not be read, so output is withheld: {other}");
            return Ok(Redactor::withholding());
        }
    };
    match (
        output.exit_code,
        crate::env_file::read_output(&output.stdout),
    ) {
        (Some(0), Some((text, true))) => Ok(Redactor::from_env_file(text)),
        (Some(0), Some((_, false))) => Ok(Redactor::default()),
        (code, _) => {
            tracing::warn!(
                ?code,
                "the env file could not be read, so output is withheld"
            );
            Ok(Redactor::withholding())
        }
    }
}

/// A command's streamed output handed on as redacted whole lines, each with its newline
/// and the stream it came on: what `on_output` receives, joined, is the redacted output.
pub(super) struct ShownLines<'a, F: FnMut(Source, &str)> {
    redactor: &'a Redactor,
    stdout: LineSplitter,
    stderr: LineSplitter,
    on_output: F,
}

impl<'a, F: FnMut(Source, &str)> ShownLines<'a, F> {
    pub fn new(redactor: &'a Redactor, on_output: F) -> Self {
        ShownLines {
            redactor,
            stdout: LineSplitter::default(),
            stderr: LineSplitter::default(),
            on_output,
        }
    }

    pub fn push(&mut self, chunk: &StreamChunk) {
        let mut lines = Vec::new();
        let redactor = self.redactor;
        let begun = |text: &[u8]| redactor.begun_at_end(text);
        let source = match chunk {
            StreamChunk::Stdout(bytes) => {
                self.stdout.push(bytes, &mut lines, &begun);
                Source::Stdout
            }
            StreamChunk::Stderr(bytes) => {
                self.stderr.push(bytes, &mut lines, &begun);
                Source::Stderr
            }
        };
        for line in lines {
            let mut shown = self.redactor.redact(&line);
            shown.push('\n');
            (self.on_output)(source, &shown);
        }
    }

    /// The last line of each stream, if it ended without a newline.
    pub fn finish(mut self) {
        for (source, splitter) in [
            (Source::Stdout, &mut self.stdout),
            (Source::Stderr, &mut self.stderr),
        ] {
            let mut last = Vec::new();
            splitter.finish(&mut last);
            for line in last {
                (self.on_output)(source, &self.redactor.redact(&line));
            }
        }
    }
}

/// `output` as a person may see it: each stream redacted.
pub(super) fn redacted(output: &CommandOutput, redactor: &Redactor) -> CommandOutput {
    CommandOutput {
        stdout: redactor.redact(&output.stdout),
        stderr: redactor.redact(&output.stderr),
        ..output.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(chunks: &[StreamChunk]) -> String {
        let redactor = Redactor::from_env_file("DB_URL=postgres://app:Xq7-fake-pass@db/app\n");
        let mut text = String::new();
        let mut lines = ShownLines::new(&redactor, |_, piece: &str| text.push_str(piece));
        for chunk in chunks {
            lines.push(chunk);
        }
        lines.finish();
        text
    }

    #[test]
    fn a_value_split_across_chunks_is_still_taken_out() {
        let text = shown(&[
            StreamChunk::Stdout(b"connecting with Xq7-fa"),
            StreamChunk::Stderr(b"warn: slow\n"),
            StreamChunk::Stdout(b"ke-pass\nready"),
        ]);
        assert!(!text.contains("Xq7-fake-pass"), "{text}");
        assert!(!text.contains("ke-pass"), "{text}");
        assert_eq!(text, "warn: slow\nconnecting with [redacted]\nready");
    }

    #[test]
    fn output_with_no_secret_passes_whole() {
        let text = shown(&[StreamChunk::Stdout(b"Pulling backend-aws\r\n done\n")]);
        assert_eq!(text, "Pulling backend-aws\n done\n");
    }
}
