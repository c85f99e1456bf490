//! Errors. Every variant says where: `line` (1-based) and `position` (byte
//! offset from the start of the document, 0-based; for a non-UTF-8 file it
//! counts bytes of the document decoded to UTF-8), and — where an element is
//! involved — its `path` from the root, e.g.
//! `КоммерческаяИнформация/ПакетПредложений/Предложения/Предложение[Ид=…]/Цены/Цена/ЦенаЗаЕдиницу`.

use std::sync::Arc;

/// Reading a CommerceML file failed. After an error the reader yields nothing
/// more.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The underlying reader failed.
    #[error("I/O error at line {line}, byte {position}: {source}")]
    Io {
        /// Line where reading stopped.
        line: u64,
        /// Byte position where reading stopped.
        position: u64,
        /// The I/O error.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// The text is not well-formed XML.
    #[error("malformed XML at line {line}, byte {position} (inside {path}): {message}")]
    Xml {
        /// Line of the error.
        line: u64,
        /// Byte position of the error.
        position: u64,
        /// Innermost open element.
        path: String,
        /// What the XML parser reported.
        message: String,
    },
    /// The bytes are not valid in the document's encoding, or the encoding
    /// is not supported.
    #[error("encoding error at line {line}, byte {position}: {message}")]
    Encoding {
        /// Line of the error.
        line: u64,
        /// Byte position of the error.
        position: u64,
        /// Details.
        message: String,
    },
    /// The file ends before the document is complete — typically an upload
    /// cut short. Items read before it are not the whole file.
    #[error(
        "unexpected end of file at line {line}, byte {position}: {path} is not closed (truncated file?)"
    )]
    Truncated {
        /// Last line.
        line: u64,
        /// File length.
        position: u64,
        /// Innermost element left open.
        path: String,
    },
    /// Well-formed XML that is not usable CommerceML: a missing `Ид`, a
    /// number that is not a number, a root that is not
    /// `КоммерческаяИнформация`…
    #[error("invalid CommerceML at line {line}, byte {position}, {path}: {message}")]
    Invalid {
        /// Line of the offending element.
        line: u64,
        /// Byte position of the offending element's start tag.
        position: u64,
        /// The offending element.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// 1-based line number of the error.
    pub fn line(&self) -> u64 {
        match self {
            Error::Io { line, .. }
            | Error::Xml { line, .. }
            | Error::Encoding { line, .. }
            | Error::Truncated { line, .. }
            | Error::Invalid { line, .. } => *line,
        }
    }

    /// 0-based byte position of the error.
    pub fn position(&self) -> u64 {
        match self {
            Error::Io { position, .. }
            | Error::Xml { position, .. }
            | Error::Encoding { position, .. }
            | Error::Truncated { position, .. }
            | Error::Invalid { position, .. } => *position,
        }
    }

    /// Element path of the error, if there is one.
    pub fn path(&self) -> Option<&str> {
        match self {
            Error::Xml { path, .. }
            | Error::Truncated { path, .. }
            | Error::Invalid { path, .. } => Some(path),
            Error::Io { .. } | Error::Encoding { .. } => None,
        }
    }
}
