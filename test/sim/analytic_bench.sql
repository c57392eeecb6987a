-- The harness of `make bench-analytic` (test/scripts/bench_analytic.sh), in schema bench (which the
-- benchmark excludes from IndexPilot with indexpilot.exclude): the reporting workload on the star schema of
-- analytic_schema.sql, planner costs, and the greedy what-if baseline, computed with indexpilot_whatif().
CREATE SCHEMA bench;

-- The workload: format() templates whose arguments are, for a value v, (v, v+1, 7v, 7v+6, v % 12, v % 40,
-- 37v, v+2, v+3). `per_pass`: how many values each learning pass runs. Statement Q4 (a correlated subquery
-- over 200 products, each a scan of the fact table: about 40 s on the development machine) cannot finish
-- within 30 s without an index.
CREATE TABLE bench.statements (name text PRIMARY KEY, ord integer NOT NULL, per_pass integer NOT NULL,
                               template text NOT NULL);
INSERT INTO bench.statements VALUES
('Q1 brand sales per month', 1, 4, $q$SELECT d.month, sum(s.amount) FROM dw.sales s JOIN dw.dim_product p ON p.product_id = s.product_id JOIN dw.dim_date d ON d.date_id = s.date_id WHERE p.brand = 'brand %1$s' AND d.year = 2025 GROUP BY d.month ORDER BY 1$q$),
('Q2 a customer''s last purchases', 2, 4, $q$SELECT s.date_id, s.product_id, s.amount FROM dw.sales s JOIN dw.dim_customer c ON c.customer_id = s.customer_id WHERE c.email = 'customer%7$s@example.com' ORDER BY s.date_id DESC LIMIT 20$q$),
('Q3 one store, one month, per day', 3, 4, $q$SELECT s.date_id, sum(s.amount) FROM dw.sales s WHERE s.store_id = %1$s AND s.date_id BETWEEN 400 AND 430 GROUP BY 1 ORDER BY 1$q$),
('Q4 last sale of each product of four brands (correlated)', 4, 1, $q$SELECT p.product_id, (SELECT max(s.date_id) FROM dw.sales s WHERE s.product_id = p.product_id) FROM dw.dim_product p WHERE p.brand IN ('brand %1$s', 'brand %2$s', 'brand %8$s', 'brand %9$s')$q$),
('Q5 customers of a country without a recent purchase (NOT EXISTS)', 5, 4, $q$SELECT count(*) FROM dw.dim_customer c WHERE c.country = 'country %1$s' AND NOT EXISTS (SELECT 1 FROM dw.sales s WHERE s.customer_id = c.customer_id AND s.date_id >= 1000)$q$),
('Q6 a segment''s revenue in a month (low-cardinality filter)', 6, 4, $q$SELECT c.segment, sum(s.amount) FROM dw.sales s JOIN dw.dim_customer c ON c.customer_id = s.customer_id JOIN dw.dim_date d ON d.date_id = s.date_id WHERE d.year = 2024 AND d.month = %5$s + 1 AND c.segment = 'segment 1' GROUP BY 1$q$),
('Q7 top brands of a category in a week', 7, 4, $q$SELECT p.brand, sum(s.quantity) FROM dw.sales s JOIN dw.dim_product p ON p.product_id = s.product_id WHERE p.category = 'category %6$s' AND s.date_id BETWEEN %3$s AND %4$s GROUP BY 1 ORDER BY 2 DESC LIMIT 10$q$),
('Q8 a region''s stores in a month', 8, 4, $q$SELECT st.city, sum(s.amount) FROM dw.sales s JOIN dw.dim_store st ON st.store_id = s.store_id WHERE st.region = 'region %5$s' AND s.date_id BETWEEN 700 AND 730 GROUP BY 1 ORDER BY 2 DESC$q$);

CREATE FUNCTION bench.instance(template text, v integer) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT format(template, v, v + 1, 7 * v, 7 * v + 6, v % 12, v % 40, 37 * v, v + 2, v + 3) $$;

-- The representative instance of each statement (v = 5), whose planner cost is compared.
CREATE FUNCTION bench.representative(template text) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT bench.instance(template, 5) $$;

CREATE FUNCTION bench.cost(query text) RETURNS float8 LANGUAGE plpgsql
AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Total Cost')::float8;
END
$$;

-- Planner costs of the representative instances per phase (none, indexpilot, greedy).
CREATE TABLE bench.costs (phase text, name text, cost float8, PRIMARY KEY (phase, name));
CREATE FUNCTION bench.record_costs(phase text) RETURNS void LANGUAGE sql
AS $$
    INSERT INTO bench.costs SELECT phase, s.name, bench.cost(bench.representative(s.template)) FROM bench.statements s
$$;

-- Executions: learning passes and the final run, with time and whether statement_timeout cut them short.
CREATE TABLE bench.runs (phase text, name text, v integer, ms float8, timed_out boolean);

-- Index sets per phase: name, table, columns, bytes.
CREATE TABLE bench.indexes (phase text, index_name text, table_name text, columns text, bytes bigint);

-- Candidates of the greedy baseline: every column the captured shapes filter or join on, alone, and every
-- ordered pair of columns one shape names together (what a classic what-if advisor enumerates).
CREATE FUNCTION bench.candidates() RETURNS TABLE (relid oid, columns name[]) LANGUAGE sql
AS $$
    WITH shapes AS (SELECT DISTINCT q.relid, q.attnums FROM indexpilot.query_stats q
                    WHERE q.relid IN (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                      WHERE n.nspname = 'dw')),
         cols AS (SELECT DISTINCT s.relid, a.attnum, a.attname FROM shapes s
                  JOIN pg_attribute a ON a.attrelid = s.relid AND a.attnum = ANY (s.attnums))
    SELECT c.relid, ARRAY[c.attname] FROM cols c
    UNION
    SELECT s.relid, ARRAY[a1.attname, a2.attname] FROM shapes s
    JOIN pg_attribute a1 ON a1.attrelid = s.relid AND a1.attnum = ANY (s.attnums)
    JOIN pg_attribute a2 ON a2.attrelid = s.relid AND a2.attnum = ANY (s.attnums) AND a2.attnum <> a1.attnum
$$;

-- The greedy baseline under a byte budget: at each step, the candidate whose hypothetical index (on top of
-- the ones chosen so far, which are built for real) most lowers the summed planner cost of the workload's
-- representative statements, if it fits the budget; stop when the best lowers the sum by less than 1%.
-- Returns the steps as text lines.
CREATE FUNCTION bench.greedy(budget bigint) RETURNS SETOF text LANGUAGE plpgsql
AS $$
DECLARE
    cand      record;
    best_rel  oid;
    best_cols name[];
    best_sum  float8;
    current   float8;
    trial     float8;
    est       float8;
    used      bigint := 0;
    step      integer := 0;
    iname     text;
    iq        text;
BEGIN
    CREATE TEMP TABLE greedy_cands ON COMMIT DROP AS SELECT * FROM bench.candidates();
    LOOP
        step := step + 1;
        SELECT sum(bench.cost(bench.representative(s.template))) INTO current FROM bench.statements s;
        best_sum := NULL;
        FOR cand IN SELECT * FROM greedy_cands ORDER BY relid, columns LOOP
            SELECT sum(w.cost_with), max(w.estimated_bytes) INTO trial, est
            FROM bench.statements s,
                 LATERAL indexpilot_whatif(bench.representative(s.template), cand.relid::regclass, cand.columns) w;
            IF used + est <= budget AND (best_sum IS NULL OR trial < best_sum) THEN
                best_rel := cand.relid;
                best_cols := cand.columns;
                best_sum := trial;
            END IF;
        END LOOP;
        IF best_sum IS NULL OR current - best_sum < 0.01 * current THEN
            RETURN NEXT format('step %s: stop (summed cost %s; %s)', step, round(current::numeric),
                               CASE WHEN best_sum IS NULL THEN 'no remaining candidate fits the budget'
                                    ELSE 'best remaining gain '
                                         || round((100 * (current - best_sum) / current)::numeric, 2)::text || '%' END);
            RETURN;
        END IF;
        iname := format('greedy_%s_%s', step, array_to_string(best_cols, '_'));
        iq := format('%I.%I', (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                               WHERE c.oid = best_rel), iname);
        EXECUTE format('CREATE INDEX %I ON %s (%s)', iname, best_rel::regclass,
                       (SELECT string_agg(quote_ident(c), ', ') FROM unnest(best_cols) c));
        used := used + pg_relation_size(iq::regclass);
        INSERT INTO bench.indexes VALUES ('greedy', iname, best_rel::regclass::text, array_to_string(best_cols, ','),
                                          pg_relation_size(iq::regclass));
        DELETE FROM greedy_cands g WHERE g.relid = best_rel AND g.columns = best_cols;
        RETURN NEXT format('step %s: %s (%s), summed cost %s -> %s, %s bytes (used %s of %s)', step,
                           best_rel::regclass, array_to_string(best_cols, ', '), round(current::numeric),
                           round(best_sum::numeric), pg_relation_size(iq::regclass), used, budget);
    END LOOP;
END
$$;
