-- What a product's pictures were when vitrina last read them from Bitrix: the file ids the
-- product list shows (detail, preview, MORE_PHOTO). A product whose ids are unchanged keeps
-- its stored pictures without the one-product-a-call listing.
CREATE TABLE bitrix_pictures (
    product_id TEXT PRIMARY KEY,
    signature  TEXT NOT NULL
);
