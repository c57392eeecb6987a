-- The star schema of `make bench-analytic` (test/scripts/bench_analytic.sh): one fact table of sales and
-- four dimensions, generated here (psql variable :fact_rows, default 5,000,000 in the script), primary keys
-- only, nothing registered with IndexPilot. Values are spread deterministically (setseed) so that two runs
-- see the same data.
\o /dev/null
SELECT setseed(0.42);
\o

CREATE SCHEMA dw;

CREATE TABLE dw.dim_date (
    date_id   integer PRIMARY KEY,          -- days since 2024-01-01
    day       date    NOT NULL,
    year      integer NOT NULL,
    month     integer NOT NULL,
    dow       integer NOT NULL
);
INSERT INTO dw.dim_date
SELECT g, date '2024-01-01' + g, extract(year FROM date '2024-01-01' + g)::int,
       extract(month FROM date '2024-01-01' + g)::int, extract(dow FROM date '2024-01-01' + g)::int
FROM generate_series(0, 1095) g;

CREATE TABLE dw.dim_store (
    store_id  integer PRIMARY KEY,
    region    text    NOT NULL,             -- 12 regions
    city      text    NOT NULL
);
INSERT INTO dw.dim_store SELECT g, 'region ' || (g % 12), 'city ' || g FROM generate_series(1, 500) g;

CREATE TABLE dw.dim_product (
    product_id integer PRIMARY KEY,
    category   text    NOT NULL,            -- 40 categories
    brand      text    NOT NULL,            -- 400 brands of 50 products
    name       text    NOT NULL,
    list_price numeric NOT NULL
);
INSERT INTO dw.dim_product
SELECT g, 'category ' || (g % 40), 'brand ' || (g % 400), 'product ' || g, 1 + (g % 997)
FROM generate_series(1, 20000) g;

CREATE TABLE dw.dim_customer (
    customer_id integer PRIMARY KEY,
    segment     text    NOT NULL,           -- 5 segments: low cardinality
    country     text    NOT NULL,           -- 60 countries
    email       text    NOT NULL
);
INSERT INTO dw.dim_customer
SELECT g, 'segment ' || (g % 5), 'country ' || (g % 60), 'customer' || g || '@example.com'
FROM generate_series(1, 300000) g;

-- Sales: uniform over dates, stores, products and customers (the fact table's rows are its bulk).
CREATE TABLE dw.sales (
    sale_id     bigint  PRIMARY KEY,
    date_id     integer NOT NULL,
    store_id    integer NOT NULL,
    product_id  integer NOT NULL,
    customer_id integer NOT NULL,
    quantity    integer NOT NULL,
    amount      numeric NOT NULL
);
INSERT INTO dw.sales
SELECT g, (random() * 1095)::int, 1 + (random() * 499)::int, 1 + (random() * 19999)::int,
       1 + (random() * 299999)::int, 1 + (g % 7), round((random() * 500)::numeric, 2)
FROM generate_series(1, :fact_rows) g;
-- The foreign keys after the load: one validating join each instead of four lookups per row.
ALTER TABLE dw.sales ADD FOREIGN KEY (date_id) REFERENCES dw.dim_date,
                     ADD FOREIGN KEY (store_id) REFERENCES dw.dim_store,
                     ADD FOREIGN KEY (product_id) REFERENCES dw.dim_product,
                     ADD FOREIGN KEY (customer_id) REFERENCES dw.dim_customer;

VACUUM ANALYZE dw.dim_date, dw.dim_store, dw.dim_product, dw.dim_customer, dw.sales;
