//! The streaming reader.
//!
//! One pass over the XML events with a stack of open elements. Each element
//! gets a role from its parent's role and its own name:
//!
//! ```text
//! КоммерческаяИнформация                          root (ВерсияСхемы)
//!   Классификатор | Каталог | ПакетПредложений |   document section → Item::Document
//!   ИзмененияПакетаПредложений
//!     Ид, Наименование, ИдКаталога, ИдКлассификатора   header fields
//!     Группы → Группа (→ Группы → Группа …)         groups, streamed one by one
//!     Свойства → Свойство                          captured, → Item::Property
//!     ТипыЦен → ТипЦены                            captured, → Item::PriceType
//!     Склады → Склад                               captured, → Item::Warehouse
//!     Товары → Товар                               captured, → Item::Product
//!     Предложения → Предложение                    captured, → Item::Offer
//!   anything else                                  skipped
//! ```
//!
//! "Captured" items are collected into a small reusable element tree
//! ([`crate::dom`]) and converted when they close, so memory is bounded by
//! the largest single item. Groups are not captured (a classifier's group
//! tree can be large): each group is yielded as soon as its `Ид` and
//! `Наименование` have been read, before its subgroups.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;

use encoding_rs::{Encoding, UTF_8};
use quick_xml::events::{BytesStart, Event};

use crate::Error;
use crate::convert::{ItemCtx, is_deleted_status, parse_bool};
use crate::dom::Dom;
use crate::model::{DocumentInfo, DocumentKind, Group, Item};
use crate::source::{
    DEFAULT_MAX_ELEMENT_BYTES, ElementTooLarge, Guard, Prefixed, Source, Transcoder, sniff,
};

/// Default limit on the size of a single item (see [`Reader::with_max_item_bytes`]).
pub const DEFAULT_MAX_ITEM_BYTES: usize = 16 * 1024 * 1024;
/// Elements nested deeper than this are refused (1C's deepest path is about 10).
pub const MAX_DEPTH: usize = 256;

/// Streaming CommerceML reader: yields [`Item`]s one at a time, in document
/// order, holding only the current item in memory.
///
/// Works on any CommerceML 2.x exchange file — `import.xml`, `offers.xml`,
/// the numbered `import0_1.xml` / `offers0_1.xml`, `prices*.xml`,
/// `rests*.xml` — and yields whatever it contains. The encoding (UTF-8 or
/// windows-1251, from the BOM / XML declaration) is handled internally.
///
/// ```no_run
/// use commerceml::{Item, Reader};
///
/// let mut reader = Reader::from_path("offers.xml")?;
/// while let Some(item) = reader.next_item()? {
///     if let Item::Offer(offer) = item {
///         println!("{} {:?}", offer.product_id, offer.quantity);
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Reader<R: BufRead> {
    xml: quick_xml::Reader<Guard<Source<R>>>,
    buf: Vec<u8>,
    init_error: Option<Error>,
    encoding: &'static Encoding,
    /// Bytes quick-xml skips without counting (a UTF-8 BOM).
    offset: u64,
    state: State,
    schema_version: Option<String>,
    frames: Vec<Frame>,
    /// `КоммерческаяИнформация/Каталог/Товары/Товар…` of the open elements.
    path: String,
    /// Line at the current parse position (1-based).
    line: u64,
    queue: VecDeque<Item>,
    header: Option<Header>,
    groups: Vec<GroupFrame>,
    /// Text of the header or group field being read.
    field: String,
    dom: Dom,
    max_item_bytes: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    BeforeRoot,
    InRoot,
    AfterRoot,
    Done,
    Failed,
}

#[derive(Clone, Copy, Debug)]
enum Ctx {
    Root,
    Doc,
    HeaderField(HeaderField),
    Collection(Coll),
    Group,
    GroupField(GroupField),
    /// Inside a captured item; the index of this element's node.
    Capture(usize),
    Skip,
}

#[derive(Clone, Copy, Debug)]
enum HeaderField {
    Id,
    Name,
    CatalogId,
    ClassifierId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Coll {
    Groups,
    Properties,
    PriceTypes,
    Warehouses,
    Products,
    Offers,
}

#[derive(Clone, Copy, Debug)]
enum GroupField {
    Id,
    Name,
    Description,
    DeletionMark,
    Status,
}

#[derive(Debug)]
struct Frame {
    /// Length of `path` before this element's name was appended.
    path_len: usize,
    ctx: Ctx,
    line: u64,
    pos: u64,
}

#[derive(Debug)]
struct Header {
    info: DocumentInfo,
    emitted: bool,
}

#[derive(Debug)]
struct GroupFrame {
    id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    status: Option<String>,
    marked: bool,
    emitted: bool,
    line: u64,
    pos: u64,
    path_len: usize,
}

impl Reader<BufReader<File>> {
    /// Opens a file for reading.
    pub fn from_path(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let file = File::open(path)?;
        Ok(Reader::new(BufReader::with_capacity(64 * 1024, file)))
    }
}

impl<R: BufRead> Reader<R> {
    /// Wraps an input. Reads the first bytes right away to detect the
    /// encoding; an I/O or encoding problem there is reported by the first
    /// [`Reader::next_item`] call.
    pub fn new(mut input: R) -> Self {
        let (source, encoding, init_error, offset) = match sniff(&mut input) {
            Ok(Ok(sniffed)) => {
                let offset = if sniffed.bom && sniffed.encoding == UTF_8 {
                    3
                } else {
                    0
                };
                let prefixed = Prefixed::new(sniffed.head, input);
                let source = if sniffed.encoding == UTF_8 {
                    Source::Utf8(prefixed)
                } else {
                    Source::Transcoded(Transcoder::new(prefixed, sniffed.encoding))
                };
                (source, sniffed.encoding, None, offset)
            }
            Ok(Err(message)) => (
                Source::Utf8(Prefixed::new(Vec::new(), input)),
                UTF_8,
                Some(Error::Encoding {
                    line: 1,
                    position: 0,
                    message,
                }),
                0,
            ),
            Err(e) => (
                Source::Utf8(Prefixed::new(Vec::new(), input)),
                UTF_8,
                Some(Error::Io {
                    line: 1,
                    position: 0,
                    source: Arc::new(e),
                }),
                0,
            ),
        };
        let mut xml = quick_xml::Reader::from_reader(Guard::new(source, DEFAULT_MAX_ELEMENT_BYTES));
        let config = xml.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        config.trim_text_start = false;
        config.trim_text_end = false;
        Reader {
            xml,
            buf: Vec::with_capacity(4096),
            init_error,
            encoding,
            offset,
            state: State::BeforeRoot,
            schema_version: None,
            frames: Vec::new(),
            path: String::new(),
            line: 1,
            queue: VecDeque::new(),
            header: None,
            groups: Vec::new(),
            field: String::new(),
            dom: Dom::default(),
            max_item_bytes: DEFAULT_MAX_ITEM_BYTES,
        }
    }

    /// Limits the size of one item (text, names and attributes of a single
    /// `Товар`, `Предложение`…); a larger item is an [`Error::Invalid`]
    /// instead of unbounded memory use. Default: [`DEFAULT_MAX_ITEM_BYTES`].
    pub fn with_max_item_bytes(mut self, bytes: usize) -> Self {
        self.max_item_bytes = bytes;
        self
    }

    /// Limits one piece of XML (a tag with its attributes, or one text node) the parser holds
    /// at once; a longer one is an [`Error::Invalid`] at its start. Default:
    /// [`DEFAULT_MAX_ELEMENT_BYTES`](crate::DEFAULT_MAX_ELEMENT_BYTES).
    pub fn with_max_element_bytes(mut self, bytes: usize) -> Self {
        self.xml.get_mut().set_max(bytes);
        self
    }

    /// `ВерсияСхемы` of the root element (`"2.04"`, `"2.10"`…), once the root
    /// has been read (after the first [`Reader::next_item`] call).
    pub fn schema_version(&self) -> Option<&str> {
        self.schema_version.as_deref()
    }

    /// The line the reader has reached: just past the last item returned. Good for
    /// warnings about an item ("offers.xml:1234: offer for an unknown product").
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Name of the detected input encoding (`"UTF-8"`, `"windows-1251"`).
    pub fn encoding(&self) -> &'static str {
        self.encoding.name()
    }

    /// Reads up to the next item. `Ok(None)` at the end of a complete
    /// document; an error (e.g. [`Error::Truncated`]) if the document is
    /// broken. After an error, returns `Ok(None)`.
    pub fn next_item(&mut self) -> Result<Option<Item>, Error> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Ok(Some(item));
            }
            if matches!(self.state, State::Done | State::Failed) {
                return Ok(None);
            }
            if let Some(e) = self.init_error.take() {
                self.state = State::Failed;
                return Err(e);
            }
            if let Err(e) = self.step() {
                self.state = State::Failed;
                self.queue.clear();
                return Err(e);
            }
        }
    }

    fn byte_pos(&self) -> u64 {
        self.xml.buffer_position() + self.offset
    }

    /// Reads and handles one XML event.
    fn step(&mut self) -> Result<(), Error> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let pos = self.byte_pos();
        let line = self.line;
        let result = match self.xml.read_event_into(&mut buf) {
            Ok(event) => {
                self.line += count_newlines(event_bytes(&event));
                self.handle(event, line, pos)
            }
            Err(e) => Err(self.xml_error(e, &buf, line, pos)),
        };
        self.buf = buf;
        result
    }

    fn handle(&mut self, event: Event<'_>, line: u64, pos: u64) -> Result<(), Error> {
        match event {
            Event::Start(e) => self.start(&e, line, pos),
            Event::Empty(e) => {
                self.start(&e, line, pos)?;
                self.end()
            }
            Event::End(_) => self.end(),
            Event::Text(t) => self.text(&t.xml10_content(), line, pos),
            Event::CData(c) => self.text(&c.xml10_content(), line, pos),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(ch)) => ch.to_string(),
                    Ok(None) => match quick_xml::escape::resolve_predefined_entity(&r) {
                        Some(s) => s.to_owned(),
                        None => {
                            return Err(self.xml_error_at(
                                line,
                                pos,
                                format!("unknown entity &{};", &*r),
                            ));
                        }
                    },
                    Err(e) => return Err(self.xml_error_at(line, pos, e.to_string())),
                };
                self.text(&resolved, line, pos)
            }
            Event::Eof => self.eof(),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => Ok(()),
        }
    }

    fn start(&mut self, e: &BytesStart<'_>, line: u64, pos: u64) -> Result<(), Error> {
        let name_q = e.name();
        let name = name_q.local_name().into_inner();
        if self.frames.len() >= MAX_DEPTH {
            return Err(self.invalid_here(
                line,
                pos,
                format!("elements nested deeper than {MAX_DEPTH}; refused"),
            ));
        }
        let path_len = self.path.len();
        if !self.path.is_empty() {
            self.path.push('/');
        }
        self.path.push_str(name);

        let parent = self.frames.last().map(|f| f.ctx);
        let ctx = match parent {
            None => match self.state {
                State::BeforeRoot => {
                    if name != "КоммерческаяИнформация" {
                        return Err(self.invalid_here(
                            line,
                            pos,
                            format!("not a CommerceML document: root element is <{name}>, expected <КоммерческаяИнформация>"),
                        ));
                    }
                    self.schema_version = self.attr(e, "ВерсияСхемы", line, pos)?;
                    self.state = State::InRoot;
                    Ctx::Root
                }
                _ => {
                    return Err(self.invalid_here(
                        line,
                        pos,
                        "element after the end of the root element".into(),
                    ));
                }
            },
            Some(Ctx::Root) => {
                let kind = match name {
                    "Классификатор" => Some(DocumentKind::Classifier),
                    "Каталог" => Some(DocumentKind::Catalog),
                    "ПакетПредложений" => Some(DocumentKind::OffersPackage),
                    "ИзмененияПакетаПредложений" => {
                        Some(DocumentKind::OffersChanges)
                    }
                    _ => None,
                };
                match kind {
                    Some(kind) => {
                        let only_changes =
                            match self.attr(e, "СодержитТолькоИзменения", line, pos)?
                            {
                                None => false,
                                Some(v) => parse_bool(&v).ok_or_else(|| {
                                    self.invalid_here(
                                    line,
                                    pos,
                                    format!(
                                        "СодержитТолькоИзменения must be true or false, found {v:?}"
                                    ),
                                )
                                })?,
                            };
                        self.header = Some(Header {
                            info: DocumentInfo {
                                kind,
                                id: None,
                                name: None,
                                catalog_id: None,
                                classifier_id: None,
                                only_changes,
                            },
                            emitted: false,
                        });
                        Ctx::Doc
                    }
                    None => Ctx::Skip,
                }
            }
            Some(Ctx::Doc) => {
                let coll = match name {
                    "Ид" => Err(HeaderField::Id),
                    "Наименование" => Err(HeaderField::Name),
                    "ИдКаталога" => Err(HeaderField::CatalogId),
                    "ИдКлассификатора" => Err(HeaderField::ClassifierId),
                    "Группы" => Ok(Some(Coll::Groups)),
                    "Свойства" => Ok(Some(Coll::Properties)),
                    "ТипыЦен" => Ok(Some(Coll::PriceTypes)),
                    "Склады" => Ok(Some(Coll::Warehouses)),
                    "Товары" => Ok(Some(Coll::Products)),
                    "Предложения" => Ok(Some(Coll::Offers)),
                    _ => Ok(None),
                };
                match coll {
                    Err(field) => {
                        self.field.clear();
                        Ctx::HeaderField(field)
                    }
                    Ok(Some(coll)) => {
                        self.emit_header();
                        Ctx::Collection(coll)
                    }
                    Ok(None) => Ctx::Skip,
                }
            }
            Some(Ctx::Collection(coll)) => {
                let item = match coll {
                    Coll::Groups => "Группа",
                    Coll::Properties => "Свойство",
                    Coll::PriceTypes => "ТипЦены",
                    Coll::Warehouses => "Склад",
                    Coll::Products => "Товар",
                    Coll::Offers => "Предложение",
                };
                if name != item {
                    Ctx::Skip
                } else if coll == Coll::Groups {
                    let status = self.attr(e, "Статус", line, pos)?;
                    self.groups.push(GroupFrame {
                        id: None,
                        name: None,
                        description: None,
                        status,
                        marked: false,
                        emitted: false,
                        line,
                        pos,
                        path_len,
                    });
                    Ctx::Group
                } else {
                    self.dom.clear();
                    let index = self.dom.push(name, 0, line, pos);
                    self.capture_attrs(e, index, line, pos)?;
                    Ctx::Capture(index)
                }
            }
            Some(Ctx::Group) => {
                let field = match name {
                    "Ид" => Some(GroupField::Id),
                    "Наименование" => Some(GroupField::Name),
                    "Описание" => Some(GroupField::Description),
                    "ПометкаУдаления" => Some(GroupField::DeletionMark),
                    "Статус" => Some(GroupField::Status),
                    _ => None,
                };
                match (field, name) {
                    (Some(field), _) => {
                        self.field.clear();
                        Ctx::GroupField(field)
                    }
                    (None, "Группы") => {
                        self.emit_group()?;
                        Ctx::Collection(Coll::Groups)
                    }
                    (None, "Свойства") => {
                        self.emit_group()?;
                        Ctx::Collection(Coll::Properties)
                    }
                    (None, _) => Ctx::Skip,
                }
            }
            Some(Ctx::Capture(parent)) => {
                let index = self.dom.push(name, parent, line, pos);
                self.capture_attrs(e, index, line, pos)?;
                self.check_item_size(line, pos)?;
                Ctx::Capture(index)
            }
            Some(Ctx::HeaderField(_) | Ctx::GroupField(_) | Ctx::Skip) => Ctx::Skip,
        };
        self.frames.push(Frame {
            path_len,
            ctx,
            line,
            pos,
        });
        Ok(())
    }

    fn end(&mut self) -> Result<(), Error> {
        let Some(frame) = self.frames.pop() else {
            // quick-xml rejects unmatched end tags; nothing to do.
            return Ok(());
        };
        let result = match frame.ctx {
            Ctx::Root => {
                self.state = State::AfterRoot;
                Ok(())
            }
            Ctx::Doc => {
                self.emit_header();
                self.header = None;
                Ok(())
            }
            Ctx::HeaderField(field) => {
                let value = take_field(&self.field);
                if let Some(header) = &mut self.header {
                    let slot = match field {
                        HeaderField::Id => &mut header.info.id,
                        HeaderField::Name => &mut header.info.name,
                        HeaderField::CatalogId => &mut header.info.catalog_id,
                        HeaderField::ClassifierId => &mut header.info.classifier_id,
                    };
                    *slot = value;
                }
                Ok(())
            }
            Ctx::GroupField(field) => {
                let value = take_field(&self.field);
                if let Some(group) = self.groups.last_mut() {
                    match field {
                        GroupField::Id => group.id = value,
                        GroupField::Name => group.name = value,
                        GroupField::Description => group.description = value,
                        GroupField::Status => group.status = value,
                        GroupField::DeletionMark => {
                            if let Some(v) = value {
                                group.marked |= parse_bool(&v).ok_or_else(|| Error::Invalid {
                                    line: frame.line,
                                    position: frame.pos,
                                    path: self.path.clone(),
                                    message: format!("expected true/false, found {v:?}"),
                                })?;
                            }
                        }
                    }
                }
                Ok(())
            }
            Ctx::Group => {
                let result = self.emit_group();
                self.groups.pop();
                result
            }
            Ctx::Capture(0) => self.finish_item(frame.path_len),
            Ctx::Collection(_) | Ctx::Capture(_) | Ctx::Skip => Ok(()),
        };
        self.path.truncate(frame.path_len);
        result
    }

    fn text(&mut self, text: &str, line: u64, pos: u64) -> Result<(), Error> {
        match self.frames.last().map(|f| f.ctx) {
            Some(Ctx::Capture(index)) => {
                self.dom.append_text(index, text);
                self.check_item_size(line, pos)
            }
            Some(Ctx::HeaderField(_) | Ctx::GroupField(_)) => {
                if self.field.len() + text.len() > self.max_item_bytes {
                    return Err(self.invalid_here(line, pos, "text is too large".into()));
                }
                self.field.push_str(text);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn eof(&mut self) -> Result<(), Error> {
        match self.state {
            State::AfterRoot => {
                self.state = State::Done;
                Ok(())
            }
            State::BeforeRoot => Err(Error::Truncated {
                line: self.line,
                position: self.byte_pos(),
                path: "(document)".into(),
            }),
            _ => Err(Error::Truncated {
                line: self.line,
                position: self.byte_pos(),
                path: self.path.clone(),
            }),
        }
    }

    fn emit_header(&mut self) {
        if let Some(header) = &mut self.header
            && !header.emitted
        {
            header.emitted = true;
            self.queue.push_back(Item::Document(header.info.clone()));
        }
    }

    fn emit_group(&mut self) -> Result<(), Error> {
        let depth = self.groups.len();
        let parent_id = depth
            .checked_sub(2)
            .and_then(|i| self.groups.get(i))
            .and_then(|g| g.id.clone());
        let Some(group) = self.groups.last_mut() else {
            return Ok(());
        };
        if group.emitted {
            return Ok(());
        }
        group.emitted = true;
        let Some(id) = group.id.clone() else {
            let mut path = self.path[..group.path_len].to_owned();
            path.push_str("/Группа");
            return Err(Error::Invalid {
                line: group.line,
                position: group.pos,
                path,
                message: "group without Ид (Ид must come before subgroups)".into(),
            });
        };
        self.queue.push_back(Item::Group(Group {
            id,
            name: group.name.clone(),
            parent_id,
            description: group.description.clone(),
            deleted: group.marked || is_deleted_status(group.status.as_deref()),
        }));
        Ok(())
    }

    fn finish_item(&mut self, path_len: usize) -> Result<(), Error> {
        let coll = match self.frames.last().map(|f| f.ctx) {
            Some(Ctx::Collection(coll)) => coll,
            _ => return Ok(()),
        };
        let cx = ItemCtx {
            dom: &self.dom,
            base: &self.path[..path_len],
        };
        let item = match coll {
            Coll::Products => Item::Product(cx.product()?),
            Coll::Offers => Item::Offer(cx.offer()?),
            Coll::Properties => Item::Property(cx.property()?),
            Coll::PriceTypes => Item::PriceType(cx.price_type()?),
            Coll::Warehouses => Item::Warehouse(cx.warehouse()?),
            Coll::Groups => return Ok(()),
        };
        self.queue.push_back(item);
        Ok(())
    }

    fn capture_attrs(
        &mut self,
        e: &BytesStart<'_>,
        index: usize,
        line: u64,
        pos: u64,
    ) -> Result<(), Error> {
        for attr in e.attributes() {
            let attr = attr.map_err(|err| self.xml_error_at(line, pos, err.to_string()))?;
            let key = attr.key.local_name().into_inner();
            if attr.key.as_ref().starts_with("xmlns") {
                continue;
            }
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| self.xml_error_at(line, pos, err.to_string()))?;
            self.dom.add_attr(index, key, &value);
        }
        Ok(())
    }

    /// Value of an attribute (by local name), trimmed, `None` if absent/empty.
    fn attr(
        &self,
        e: &BytesStart<'_>,
        name: &str,
        line: u64,
        pos: u64,
    ) -> Result<Option<String>, Error> {
        for attr in e.attributes() {
            let attr = attr.map_err(|err| self.xml_error_at(line, pos, err.to_string()))?;
            if attr.key.local_name().into_inner() == name {
                let value = attr
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(|err| self.xml_error_at(line, pos, err.to_string()))?;
                let value = value.trim();
                return Ok((!value.is_empty()).then(|| value.to_owned()));
            }
        }
        Ok(None)
    }

    fn check_item_size(&self, line: u64, pos: u64) -> Result<(), Error> {
        if self.dom.bytes > self.max_item_bytes {
            let start = self
                .frames
                .iter()
                .find(|f| matches!(f.ctx, Ctx::Capture(0)))
                .map_or((line, pos), |f| (f.line, f.pos));
            return Err(Error::Invalid {
                line: start.0,
                position: start.1,
                path: self.path.clone(),
                message: format!(
                    "item is larger than the limit of {} bytes",
                    self.max_item_bytes
                ),
            });
        }
        Ok(())
    }

    fn invalid_here(&self, line: u64, pos: u64, message: String) -> Error {
        Error::Invalid {
            line,
            position: pos,
            path: self.path.clone(),
            message,
        }
    }

    fn xml_error_at(&self, line: u64, pos: u64, message: String) -> Error {
        Error::Xml {
            line,
            position: pos,
            path: self.path.clone(),
            message,
        }
    }

    /// Maps a quick-xml error. `buf` holds the raw bytes of the event being
    /// read, which started at `event_line`/`event_pos`.
    fn xml_error(
        &mut self,
        e: quick_xml::Error,
        buf: &[u8],
        event_line: u64,
        event_pos: u64,
    ) -> Error {
        use quick_xml::encoding::EncodingError;
        use quick_xml::errors::{IllFormedError, SyntaxError};
        // Markup that is merely incomplete because the input ended (`<!-`,
        // `&am`) is a truncation, not a syntax error.
        let at_eof = matches!(
            e,
            quick_xml::Error::Syntax(_)
                | quick_xml::Error::IllFormed(IllFormedError::UnclosedReference)
        ) && self
            .xml
            .get_mut()
            .fill_buf()
            .is_ok_and(|rest| rest.is_empty());
        let line = event_line + count_newlines(buf);
        let position = self.xml.error_position() + self.offset;
        let path = if self.path.is_empty() {
            "(document)".to_owned()
        } else {
            self.path.clone()
        };
        match e {
            quick_xml::Error::Io(io)
                if io
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<ElementTooLarge>())
                    .is_some() =>
            {
                // At the start of the element or text that grew too long.
                Error::Invalid {
                    line: event_line,
                    position: event_pos,
                    path,
                    message: io.to_string(),
                }
            }
            quick_xml::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
                Error::Encoding {
                    line,
                    position: self.byte_pos(),
                    message: io.to_string(),
                }
            }
            quick_xml::Error::Io(io) => Error::Io {
                line,
                position: self.byte_pos(),
                source: io,
            },
            quick_xml::Error::Encoding(enc) => {
                // Point at the first bad byte of the event.
                let valid = match &enc {
                    EncodingError::Utf8(u) => u.valid_up_to().min(buf.len()),
                    #[allow(unreachable_patterns)]
                    _ => 0,
                };
                Error::Encoding {
                    line: event_line + count_newlines(&buf[..valid]),
                    position: event_pos + valid as u64,
                    message: enc.to_string(),
                }
            }
            // The file ends inside markup: cut short.
            _ if at_eof => Error::Truncated {
                line,
                position,
                path,
            },
            quick_xml::Error::Syntax(
                SyntaxError::UnclosedTag
                | SyntaxError::UnclosedComment
                | SyntaxError::UnclosedCData
                | SyntaxError::UnclosedPI
                | SyntaxError::UnclosedXmlDecl
                | SyntaxError::UnclosedDoctype
                | SyntaxError::UnclosedSingleQuotedAttributeValue
                | SyntaxError::UnclosedDoubleQuotedAttributeValue,
            ) => Error::Truncated {
                line,
                position,
                path,
            },
            other => Error::Xml {
                line,
                position,
                path,
                message: other.to_string(),
            },
        }
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Item, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_item().transpose()
    }
}

impl<R: BufRead> std::iter::FusedIterator for Reader<R> {}

fn take_field(text: &str) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// The raw text an event was parsed from (for line counting).
fn event_bytes<'a>(event: &'a Event<'_>) -> &'a [u8] {
    let text: &str = match event {
        Event::Start(e) | Event::Empty(e) => e,
        Event::End(e) => e,
        Event::Text(e) | Event::Comment(e) | Event::DocType(e) => e,
        Event::CData(e) => e,
        Event::PI(e) => e,
        Event::Decl(e) => e,
        Event::GeneralRef(e) => e,
        Event::Eof => "",
    };
    text.as_bytes()
}

fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}
