//! A tiny element tree for the one item being read (a `Товар`, a
//! `Предложение`…). Node slots and their strings are reused from item to
//! item, so reading a file allocates little after the first items, and
//! memory is bounded by the largest item, never the file.

/// One element of the current item.
#[derive(Debug, Default)]
pub(crate) struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub parent: usize,
    pub children: Vec<usize>,
    /// Line of the start tag.
    pub line: u64,
    /// Byte position of the start tag.
    pub pos: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Dom {
    nodes: Vec<Node>,
    used: usize,
    /// Bytes of names, attributes and text held for the current item.
    pub bytes: usize,
}

impl Dom {
    pub fn clear(&mut self) {
        self.used = 0;
        self.bytes = 0;
    }

    /// Adds an element; the first one added after [`Dom::clear`] is the root
    /// (index 0), whose `parent` is itself.
    pub fn push(&mut self, name: &str, parent: usize, line: u64, pos: u64) -> usize {
        let index = self.used;
        if index == self.nodes.len() {
            self.nodes.push(Node::default());
        }
        self.used += 1;
        let node = &mut self.nodes[index];
        node.name.clear();
        node.name.push_str(name);
        node.attrs.clear();
        node.text.clear();
        node.children.clear();
        node.parent = if index == 0 { 0 } else { parent };
        node.line = line;
        node.pos = pos;
        if index != 0 {
            self.nodes[parent].children.push(index);
        }
        self.bytes += name.len() + 16;
        index
    }

    pub fn add_attr(&mut self, index: usize, key: &str, value: &str) {
        self.bytes += key.len() + value.len();
        self.nodes[index]
            .attrs
            .push((key.to_owned(), value.to_owned()));
    }

    /// Appends character data. Whitespace-only text in an element that
    /// already has child elements is indentation, not content, and is
    /// dropped.
    pub fn append_text(&mut self, index: usize, text: &str) {
        let node = &mut self.nodes[index];
        if !node.children.is_empty() && text.bytes().all(|b| b.is_ascii_whitespace()) {
            return;
        }
        self.bytes += text.len();
        node.text.push_str(text);
    }

    pub fn node(&self, index: usize) -> &Node {
        &self.nodes[index]
    }

    /// Child elements of `index`.
    pub fn children(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        self.nodes[index].children.iter().copied()
    }

    /// First child element named `name`.
    pub fn child(&self, index: usize, name: &str) -> Option<usize> {
        self.children(index).find(|&c| self.nodes[c].name == name)
    }

    /// Trimmed text of `index`.
    pub fn text(&self, index: usize) -> &str {
        self.nodes[index].text.trim()
    }

    /// Trimmed text, `None` if empty.
    pub fn opt_text(&self, index: usize) -> Option<String> {
        let text = self.text(index);
        (!text.is_empty()).then(|| text.to_owned())
    }

    /// Trimmed text of the first child named `name`, `None` if absent/empty.
    pub fn child_text(&self, index: usize, name: &str) -> Option<String> {
        self.child(index, name).and_then(|c| self.opt_text(c))
    }

    /// Attribute value (trimmed), `None` if absent or empty.
    pub fn attr(&self, index: usize, name: &str) -> Option<&str> {
        self.nodes[index]
            .attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}
