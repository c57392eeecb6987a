-- The C++/PostgreSQL boundary: exceptions thrown deep in C++ reach the client as ordinary ERRORs,
-- PostgreSQL ERRORs raised under C++ frames unwind them, and the session goes on.
\set VERBOSITY default

-- No error: 100 frames down and back.
SELECT indexpilot._selftest_cpp_error(100, 'none');

-- Each kind of C++ exception, thrown 100 frames down, becomes an ERROR with its message.
SELECT indexpilot._selftest_cpp_error(100, 'error');
SELECT indexpilot._selftest_cpp_error(100, 'runtime');
SELECT indexpilot._selftest_cpp_error(100, 'bad_alloc');
SELECT indexpilot._selftest_cpp_error(100, 'unknown');

-- Every destructor ran: no C++ object outlived its error.
SELECT indexpilot._selftest_live_objects() AS live_objects;

-- The SQLSTATE survives the trip.
DO $$
DECLARE
    k text;
BEGIN
    FOREACH k IN ARRAY ARRAY['error', 'runtime', 'bad_alloc', 'unknown'] LOOP
        BEGIN
            PERFORM indexpilot._selftest_cpp_error(10, k);
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE '% -> SQLSTATE %', k, SQLSTATE;
        END;
    END LOOP;
END
$$;

-- A PostgreSQL ERROR raised under C++ frames: C++ cleanup runs, the original error reaches the client.
SELECT indexpilot._selftest_cleanups() AS cleanups_before \gset
SELECT indexpilot._selftest_pg_error('42');
SELECT indexpilot._selftest_pg_error('forty-two');
SELECT indexpilot._selftest_cleanups() - :cleanups_before AS cleanups_ran;
SELECT indexpilot._selftest_live_objects() AS live_objects;
DO $$
BEGIN
    PERFORM indexpilot._selftest_pg_error('2147483648');
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'out of range -> SQLSTATE % (%)', SQLSTATE, SQLERRM;
END
$$;

-- Inside a transaction: the error aborts it like any other, and ROLLBACK recovers.
BEGIN;
SELECT 1 AS before_error;
SELECT indexpilot._selftest_cpp_error(3, 'error');
SELECT 1 AS after_error;
ROLLBACK;
BEGIN;
SAVEPOINT s;
SELECT indexpilot._selftest_pg_error('x');
ROLLBACK TO SAVEPOINT s;
SELECT indexpilot._selftest_pg_error('7') AS after_savepoint;
COMMIT;

-- Bad input: clear errors, nothing else happens.
SELECT indexpilot._selftest_cpp_error(NULL, 'none');
SELECT indexpilot._selftest_cpp_error(1, NULL);
SELECT indexpilot._selftest_cpp_error(-1, 'none');
SELECT indexpilot._selftest_cpp_error(10001, 'none');
SELECT indexpilot._selftest_cpp_error(1, 'Error');
SELECT indexpilot._selftest_pg_error(NULL);

-- A thousand errors each way leave this backend's memory contexts flat.
CREATE FUNCTION pg_temp.provoke(n integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    caught integer := 0;
BEGIN
    FOR i IN 1..n LOOP
        BEGIN
            PERFORM indexpilot._selftest_cpp_error(20, CASE i % 3 WHEN 0 THEN 'error' WHEN 1 THEN 'runtime' ELSE 'unknown' END);
        EXCEPTION WHEN OTHERS THEN
            caught := caught + 1;
        END;
        BEGIN
            PERFORM indexpilot._selftest_pg_error('not a number ' || i);
        EXCEPTION WHEN invalid_text_representation THEN
            caught := caught + 1;
        END;
    END LOOP;
    RETURN caught;
END
$$;
SELECT pg_temp.provoke(200) AS warm_up_errors;
SELECT sum(total_bytes) AS bytes_before FROM pg_backend_memory_contexts \gset
SELECT pg_temp.provoke(1000) AS errors_caught;
SELECT sum(total_bytes) AS bytes_after FROM pg_backend_memory_contexts \gset
SELECT :bytes_after - :bytes_before < 65536 AS memory_flat,
       indexpilot._selftest_live_objects() AS live_objects;
