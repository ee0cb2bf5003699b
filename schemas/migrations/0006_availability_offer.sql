-- Availability offers: the distributor SKU and packaging (part of the natural key, so the cut-tape
-- and reel offers of one MPN no longer replace each other) and whether the stock was given.
-- One ALTER with three actions; runs on ClickHouse 18.16 and current releases. Old rows get
-- sku = '', packaging = '', stock_unknown = 0 (their stock was a number).
ALTER TABLE component_availability
    ADD COLUMN sku String DEFAULT '',
    ADD COLUMN packaging String DEFAULT '',
    ADD COLUMN stock_unknown UInt8 DEFAULT 0;
