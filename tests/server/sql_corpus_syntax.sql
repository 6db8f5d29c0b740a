# DuckDB's own syntax, as analysts write it, over the test mirror (tests/metrics/world.py).
# The server runs sqlglot's regeneration of the checked query, never the raw text; each
# case here is answered through POST /api/sql and compared with DuckDB's answer on the text
# as written (same columns, types and rows), so a regeneration that means something else
# fails. Same format as sql_corpus.sql. Samples carry a seed (or take everything): their
# rows are the same on every run.

-- @ s_pct_seed
SELECT * FROM connection_events USING SAMPLE 10% (bernoulli, 42)

-- @ s_pct_system_seed
SELECT * FROM connection_events USING SAMPLE 10 PERCENT (system, 42)

-- @ s_rows_reservoir_seed
SELECT * FROM connection_events USING SAMPLE reservoir(50 ROWS) REPEATABLE (42)

-- @ s_reservoir_pct_seed
SELECT * FROM connection_events USING SAMPLE reservoir(5%) REPEATABLE (7)

-- @ s_bernoulli_func
SELECT * FROM connection_events USING SAMPLE bernoulli(5%) REPEATABLE (3)

-- @ s_system_func
SELECT * FROM connection_events USING SAMPLE system(5 PERCENT) REPEATABLE (3)

-- @ s_tablesample_bern
SELECT * FROM connection_events TABLESAMPLE bernoulli(5%) REPEATABLE (11)

-- @ s_tablesample_rows
SELECT * FROM connection_events TABLESAMPLE reservoir(20 ROWS) REPEATABLE (11)

-- @ s_alias_sample
SELECT e.id FROM connection_events AS e USING SAMPLE 10% (bernoulli, 5)

-- @ s_subquery
SELECT * FROM (SELECT id FROM connection_events) USING SAMPLE 10% (bernoulli, 5)

-- @ s_after_where
SELECT id FROM connection_events WHERE outcome = 'ok' USING SAMPLE 10% (bernoulli, 99)

-- @ s_pct_decimal
SELECT id FROM connection_events USING SAMPLE 2.5% (bernoulli, 4)

-- @ s_count_100pct
SELECT count(*) FROM connection_events USING SAMPLE 100%

-- @ s_count_100pct_kw
SELECT count(*) FROM connection_events USING SAMPLE 100 PERCENT

-- @ s_tablesample_100
SELECT count(*) FROM connection_events TABLESAMPLE 100%

-- @ s_sample_cte
WITH s AS (SELECT * FROM connection_events USING SAMPLE 10% (bernoulli, 1)) SELECT count(*) FROM s

-- @ from_first_join
FROM users u JOIN devices d ON d.user_id = u.id SELECT u.country, count(*) GROUP BY ALL ORDER BY ALL

-- @ from_first_star
FROM devices SELECT * EXCLUDE (id, user_id) ORDER BY model, activated_at LIMIT 5

-- @ from_only_limit
FROM users LIMIT 3

-- @ exclude_many
SELECT * EXCLUDE (id, _sm_entered_at, updated_at) FROM users ORDER BY created_at, country LIMIT 4

-- @ exclude_qualified
SELECT u.* EXCLUDE (id), d.model FROM users u JOIN devices d ON d.user_id = u.id ORDER BY d.id LIMIT 3

-- @ replace_many
SELECT * REPLACE (upper(model) AS model, category || '!' AS category) FROM devices ORDER BY id LIMIT 3

-- @ rename_star
SELECT * RENAME (model AS m, category AS c) FROM devices ORDER BY id LIMIT 3

-- @ rename_exclude
SELECT * EXCLUDE (id) RENAME (model AS m) FROM devices ORDER BY user_id, m LIMIT 3

-- @ exclude_replace
SELECT * EXCLUDE (_sm_entered_at) REPLACE (id % 10 AS id) FROM users ORDER BY created_at, id LIMIT 5

-- @ columns_regex_agg
SELECT min(COLUMNS('(activated|last_seen)_at')), max(COLUMNS('.*_id')) FROM devices

-- @ columns_lambda_new
SELECT COLUMNS(lambda c: c LIKE '%_at') FROM users ORDER BY id LIMIT 3

-- @ columns_star_expr
SELECT COLUMNS(*)::VARCHAR FROM devices ORDER BY id LIMIT 2

-- @ columns_exclude
SELECT max(COLUMNS(* EXCLUDE (id, user_id))) FROM devices

-- @ columns_list
SELECT COLUMNS(['id', 'model']) FROM devices ORDER BY id LIMIT 2

-- @ columns_unpacked
SELECT coalesce(*COLUMNS(['model', 'category'])) FROM devices ORDER BY id LIMIT 3

-- @ columns_where
SELECT count(*) FROM devices WHERE COLUMNS('.*_at') IS NOT NULL

-- @ star_like
SELECT * LIKE '%_at' FROM devices ORDER BY id LIMIT 2

-- @ star_similar
SELECT * SIMILAR TO '.*_id' FROM devices ORDER BY id LIMIT 2

-- @ list_comp
SELECT [x * 2 FOR x IN [1, 2, 3] IF x > 1] AS a

-- @ list_comp_noif
SELECT [x || '!' FOR x IN ['a', 'b']] AS a

-- @ list_comp_col
SELECT user_id, [m FOR m IN list(model) IF m LIKE 'Cam%'] AS cams FROM devices GROUP BY user_id ORDER BY user_id LIMIT 5

-- @ list_comp_index
SELECT [x + i FOR x, i IN [10, 20, 30]] AS a

-- @ lambda_new
SELECT list_transform([1, 2, 3], lambda x: x + 1) AS a, list_reduce([1, 2, 3], lambda x, y: x * y) AS c

-- @ lambda_reduce_init
SELECT list_reduce([1, 2, 3], lambda a, b: a + b, 100) AS r

-- @ lambda_sort
SELECT list_sort(['bb', 'a', 'ccc']) AS s, list_sort([3, 1, 2], 'DESC') AS d, list_sort([3, NULL, 1], 'ASC', 'NULLS FIRST') AS n

-- @ lambda_has_any
SELECT list_has_any([1, 2], [2, 3]) a, list_has_all([1, 2], [2]) b, list_contains([1, 2], 2) c, list_position([5, 6], 6) d

-- @ struct_lit
SELECT {'a': 1} AS s, {'a': 1, 'b': [1, 2]}.b AS b, {'x': {'y': 'z'}}.x.y AS nested

-- @ struct_from_cols
SELECT {'model': model, 'cat': category} AS s FROM devices ORDER BY id LIMIT 3

-- @ struct_row_compare
SELECT (1, 'a') = (1, 'a') AS eq, row(1, 2) < row(1, 3) AS lt

-- @ struct_star
SELECT s.* FROM (SELECT {'a': 1, 'b': 2} AS s)

-- @ struct_unnest
SELECT unnest({'a': 1, 'b': 'x'})

-- @ struct_insert
SELECT struct_insert({'a': 1}, b := 2) AS s

-- @ map_lit
SELECT MAP {'a': 1, 'b': 2} AS m, MAP {1: 'x'} AS n

-- @ map_access
SELECT MAP {'a': 1, 'b': 2}['a'] AS v, element_at(MAP {'a': 1}, 'a') AS e, map_extract(MAP {'a': 1}, 'a') AS x

-- @ map_funcs
SELECT map_keys(MAP {'a': 1}) k, map_values(MAP {'a': 1}) v, cardinality(MAP {'a': 1, 'b': 2}) c, map_entries(MAP {'a': 1}) e

-- @ map_from_entries
SELECT map_from_entries([('k1', 1), ('k2', 2)]) AS m

-- @ map_empty
SELECT MAP() AS m, map() AS m2

-- @ map_concat
SELECT map_concat(MAP {'a': 1}, MAP {'b': 2}) AS m

-- @ c_decimal
SELECT 1.23::DECIMAL(10, 2) a, CAST(1.5 AS DECIMAL(4,1)) b, 123.456::NUMERIC(9,3) c, 2::DECIMAL d

-- @ c_decimal_col
SELECT latency_ms::DECIMAL(12, 4) / 7 AS a FROM connection_events ORDER BY id LIMIT 3

-- @ c_ints
SELECT 1::TINYINT a, 1::SMALLINT b, 1::INTEGER c, 1::BIGINT d, 1::HUGEINT e, 1::UTINYINT f, 1::USMALLINT g, 1::UINTEGER h, 1::UBIGINT i, 1::UHUGEINT j

-- @ c_int_aliases
SELECT 1::INT1 a, 1::INT2 b, 1::INT4 c, 1::INT8 d, 1::INT e, 1::SHORT f, 1::LONG g, 1::SIGNED h

-- @ c_int128
SELECT 1::INT128 a, 1::UINT128 b, 1::UINT8 c, 1::UINT16 d, 1::UINT32 e, 1::UINT64 f

-- @ c_uhugeint_big
SELECT '340282366920938463463374607431768211455'::UHUGEINT AS u, (-170141183460469231731687303715884105727)::HUGEINT AS h

-- @ c_floats
SELECT 1.5::FLOAT a, 1.5::REAL b, 1.5::DOUBLE c, 1.5::FLOAT4 d, 1.5::FLOAT8 e, 1.5::DOUBLE PRECISION f

-- @ c_ts_variants
SELECT '2024-01-01 10:11:12.123456789'::TIMESTAMP_NS a, '2024-01-01 10:11:12.123'::TIMESTAMP_MS b, '2024-01-01 10:11:12'::TIMESTAMP_S c, '2024-01-01 10:11:12.5'::TIMESTAMP d

-- @ c_ts_ns_col
SELECT ts::TIMESTAMP_NS a, ts::TIMESTAMP_MS b, ts::TIMESTAMP_S c FROM connection_events ORDER BY id LIMIT 2

-- @ c_datetime
SELECT '2024-01-01 10:11:12'::DATETIME a

-- @ c_tstz
SELECT '2024-01-01 10:11:12+02'::TIMESTAMPTZ a, '2024-01-01 10:11:12+02'::TIMESTAMP WITH TIME ZONE b, '2024-01-01'::TIMESTAMP WITHOUT TIME ZONE c

-- @ c_timetz
SELECT '10:11:12+02'::TIMETZ a, '10:11:12+02'::TIME WITH TIME ZONE b, '10:11:12'::TIME c

-- @ c_time_ns
SELECT '10:11:12.123456789'::TIME_NS a

-- @ c_bit
SELECT '10101'::BIT a, '10101'::BITSTRING b, bit_count('1011'::BIT) c

-- @ c_enum_like
SELECT 'a'::ENUM('a', 'b') AS e

-- @ c_array_fixed
SELECT [1, 2, 3]::INTEGER[3] a, array_value(1, 2)::DOUBLE[2] b

-- @ c_list_types
SELECT [1, 2]::VARCHAR[] a, ['1', '2']::INT[] b, [[1]]::BIGINT[][] c

-- @ c_struct_type
SELECT {'a': 1}::STRUCT(a VARCHAR) a, CAST(ROW(1, 'x') AS STRUCT(n INT, s VARCHAR)) b

-- @ c_map_type
SELECT MAP {'a': 1}::MAP(VARCHAR, DOUBLE) m

-- @ c_union_type
SELECT union_value(num := 2) u, 1::UNION(num INT, s VARCHAR) v

-- @ c_blob
SELECT 'abc'::BLOB a, 'abc'::BYTEA b, '\x01'::VARBINARY c

-- @ c_varchar
SELECT 1::VARCHAR a, 1::TEXT b, 1::STRING c, 1::CHAR d, 1::BPCHAR e, 'x'::NVARCHAR f

-- @ c_json
SELECT '{"a":1}'::JSON a, [1,2]::JSON b

-- @ c_interval
SELECT '1 day'::INTERVAL a, CAST('2 hours' AS INTERVAL) b

-- @ c_bool
SELECT 'true'::BOOLEAN a, 'f'::BOOL b, 1::LOGICAL c

-- @ c_date
SELECT '2024-02-29'::DATE a, ts::DATE b FROM connection_events ORDER BY id LIMIT 1

-- @ c_try_cast
SELECT TRY_CAST('x' AS DATE) a, TRY_CAST('2024-01-01' AS DATE) b, TRY_CAST('999' AS TINYINT) c, TRY_CAST(1.5 AS DECIMAL(3,2)) d

-- @ c_varint
SELECT 123::VARINT a

-- @ c_bignum
SELECT 123::BIGNUM a

-- @ c_cast_func
SELECT CAST(latency_ms AS VARCHAR) || 'ms' AS a FROM connection_events ORDER BY id LIMIT 2

-- @ c_pg_cast_chain
SELECT '42'::INT::VARCHAR::DOUBLE AS a

-- @ c_float_special
SELECT 'NaN'::FLOAT a, '-Infinity'::DOUBLE b

-- @ c_numeric_plain
SELECT 1.5::NUMERIC a, 12::DEC(5,1) b

-- @ c_decimal_38
SELECT 1::DECIMAL(38,10) a, 1.1::DECIMAL(1,0) b

-- @ c_oid
SELECT 1::INT64 a, 1::INT32 b, 1::INT16 c

-- @ e_estring
SELECT E'a\nb' AS a, E'tab\there' AS b, E'q\'x' AS c

-- @ e_estring_len
SELECT length(E'a\nb') AS n, E'\x41' AS x

-- @ e_dollar
SELECT $$it's $$ AS a, $tag$ x $$ y $tag$ AS b

-- @ e_backslash_plain
SELECT 'a\nb' AS a, length('a\nb') AS n

-- @ e_unicode_ident
SELECT 1 AS "ünïcødé", 2 AS "日本", 3 AS "a b", 4 AS """q"""

-- @ e_unicode_ident_bare
SELECT 1 AS ünïcødé, 2 AS 日本

-- @ e_unicode_ref
SELECT "ünï" + 1 FROM (SELECT 1 AS "ünï")

-- @ e_case_ident
SELECT "Model" FROM (SELECT model AS "Model" FROM devices) ORDER BY 1 LIMIT 2

-- @ e_keyword_alias
SELECT 1 AS "select", 2 AS "from", 3 AS "order"

-- @ e_escape_quote
SELECT 'it''s' AS a, '''' AS b

-- @ o_ilike
SELECT count(*) FROM devices WHERE model ILIKE '%PRO%' AND model NOT ILIKE 'x%'

-- @ o_similar
SELECT 'abc' SIMILAR TO 'a.c' a, 'abc' NOT SIMILAR TO 'b.*' b

-- @ o_starts
SELECT 'abc' ^@ 'a' a, model ^@ 'Cam' b FROM devices ORDER BY id LIMIT 3

-- @ o_intdiv
SELECT 7 // 2 a, -7 // 2 b, 7.5 // 2 c, latency_ms // 100 d FROM connection_events ORDER BY id LIMIT 3

-- @ o_pow
SELECT 2 ** 10 a, 2 ^ 3 b, 2.0 ** 0.5 c, power(2, 3) d, pow(2, 3) e

-- @ o_mod
SELECT 7 % 3 a, -7 % 3 b, 7.5 % 2 c, mod(7, 3) d, fmod(7.5, 2) e

-- @ o_bitwise
SELECT 5 & 3 a, 5 | 3 b, xor(5, 3) c, ~5 d, 1 << 3 e, 16 >> 2 f

-- @ o_bitwise_bits
SELECT '1010'::BIT & '0110'::BIT a, '1010'::BIT | '0110'::BIT b, ~'1010'::BIT c

-- @ o_distinct_from
SELECT NULL IS DISTINCT FROM NULL a, 1 IS NOT DISTINCT FROM 1 b, NULL IS NOT DISTINCT FROM 1 c

-- @ o_between_neg
SELECT 5 NOT BETWEEN 1 AND 3 a, 5 BETWEEN 1 AND 10 b

-- @ o_concat
SELECT 'a' || 'b' || NULL a, concat('a', NULL) b, [1] || [2] c

-- @ o_regexp_op
SELECT 'abc' ~ 'b' a, 'abc' !~ 'x' b, 'abc' ~* 'B' c, 'abc' !~* 'X' d

-- @ o_like_tilde
SELECT 'abc' ~~ 'a%' a, 'abc' !~~ 'x%' b, 'ABC' ~~* 'a%' c, 'abc' !~~* 'x%' d

-- @ o_json_arrows
SELECT '{"a": {"b": 2}}'::JSON -> 'a' a, '{"a": {"b": 2}}'::JSON ->> '$.a.b' b, '[1,2]'::JSON -> 1 c

-- @ o_at_abs
SELECT @(-5) a, abs(-5) b

-- @ o_factorial
SELECT factorial(5) a

-- @ o_neg_unary
SELECT -(-3) a, - 3 b, +3 c

-- @ o_in_list
SELECT 2 IN (1, 2) a, 2 NOT IN (1, 3) b, 2 IN [1, 2] c

-- @ o_list_contains_op
SELECT [1, 2, 3] @> [1] a, [1] <@ [1, 2] b, [1, 2] && [2, 3] c

-- @ o_is_true
SELECT true IS TRUE a, NULL IS NOT FALSE b, NULL IS UNKNOWN c

-- @ o_isnull
SELECT NULL ISNULL a, 1 NOTNULL b

-- @ o_collate
SELECT 'a' COLLATE nocase = 'A' AS eq

-- @ o_collate_order
SELECT model FROM devices GROUP BY model ORDER BY model COLLATE nocase

-- @ o_string_slice
SELECT 'hello'[2:3] a, 'hello'[2] b, [1,2,3,4][2:] c, [1,2,3,4][:2] d, [1,2,3,4][-2:] e

-- @ o_slice_step
SELECT [1,2,3,4,5][1:5:2] a

-- @ o_not_precedence
SELECT NOT 1 = 2 a, NOT NULL IS NULL b

-- @ o_neg_pow
SELECT -2 ** 2 a, (-2) ** 2 b, -2 ^ 2 c

-- @ o_pow_assoc
SELECT 2 ** 3 ** 2 a, 2 ^ 3 ^ 2 b

-- @ o_mixed_prec
SELECT 1 + 2 * 3 - 4 / 2 a, (1 + 2) * 3 b, 10 - 2 - 3 c, 2 * 3 % 4 d, 1 << 2 + 1 e, 6 & 3 | 8 f

-- @ o_string_concat_num
SELECT 1 || 2 a

-- @ g_group_all
SELECT category, model, count(*) FROM devices GROUP BY ALL ORDER BY ALL

-- @ g_order_all_desc
SELECT category, count(*) FROM devices GROUP BY ALL ORDER BY ALL DESC

-- @ g_order_nulls_first
SELECT country FROM users GROUP BY 1 ORDER BY country NULLS FIRST

-- @ g_order_nulls_last_desc
SELECT country FROM users GROUP BY 1 ORDER BY country DESC NULLS LAST

-- @ g_order_default_asc_nulls
SELECT country FROM users GROUP BY 1 ORDER BY country ASC

-- @ g_order_default_desc_nulls
SELECT country FROM users GROUP BY 1 ORDER BY country DESC

-- @ g_limit_pct_ordered
SELECT id FROM connection_events ORDER BY id LIMIT 1%

-- @ g_limit_pct_kw
SELECT id FROM connection_events ORDER BY id LIMIT 1 PERCENT

-- @ g_limit_offset_pct
SELECT id FROM connection_events ORDER BY id LIMIT 1% OFFSET 10

-- @ g_limit_expr
SELECT id FROM connection_events ORDER BY id LIMIT 2 + 3

-- @ g_offset_only
SELECT id FROM users ORDER BY id OFFSET 690

-- @ g_fetch_first
SELECT id FROM users ORDER BY id FETCH FIRST 3 ROWS ONLY

-- @ g_qualify_named
SELECT user_id, model FROM devices WINDOW w AS (PARTITION BY user_id ORDER BY id) QUALIFY row_number() OVER w = 1 ORDER BY user_id LIMIT 5

-- @ g_qualify_alias
SELECT user_id, model, row_number() OVER (PARTITION BY user_id ORDER BY id) AS rn FROM devices QUALIFY rn <= 2 ORDER BY user_id, rn LIMIT 6

-- @ g_window_inherit
SELECT id, sum(latency_ms) OVER (w ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS s FROM connection_events WINDOW w AS (ORDER BY id) ORDER BY id LIMIT 5

-- @ g_window_two
SELECT id, count(*) OVER a AS ca, max(latency_ms) OVER b AS mb FROM connection_events WINDOW a AS (PARTITION BY outcome), b AS (ORDER BY id) ORDER BY id LIMIT 5

-- @ g_filter_multi
SELECT count(*) FILTER (WHERE outcome = 'ok') ok, sum(latency_ms) FILTER (WHERE outcome <> 'ok') bad, avg(latency_ms) FILTER (latency_ms > 100) slow FROM connection_events

-- @ g_filter_window
SELECT id, count(*) FILTER (WHERE outcome = 'ok') OVER (ORDER BY id) AS c FROM connection_events ORDER BY id LIMIT 5

-- @ g_within_group
SELECT percentile_cont(0.25) WITHIN GROUP (ORDER BY latency_ms) a, percentile_disc(0.75) WITHIN GROUP (ORDER BY latency_ms DESC) b, mode() WITHIN GROUP (ORDER BY outcome) c FROM connection_events

-- @ g_within_group_list
SELECT percentile_cont([0.25, 0.5]) WITHIN GROUP (ORDER BY latency_ms) a FROM connection_events

-- @ g_string_agg_order
SELECT string_agg(model, '|' ORDER BY model DESC) a FROM (SELECT DISTINCT model FROM devices)

-- @ g_string_agg_default
SELECT length(string_agg(model ORDER BY id)) a FROM devices

-- @ g_group_concat
SELECT group_concat(model, ';' ORDER BY model) a FROM (SELECT DISTINCT model FROM devices)

-- @ g_list_order
SELECT list(model ORDER BY model DESC NULLS LAST) a FROM (SELECT DISTINCT model FROM devices)

-- @ g_array_agg_order
SELECT array_agg(id ORDER BY id DESC)[1:3] a FROM devices

-- @ g_arg_max_n
SELECT arg_max(id, latency_ms, 3) a, arg_min(id, latency_ms, 2) b FROM (SELECT * FROM connection_events WHERE id < 50)

-- @ g_max_by_n
SELECT max_by(id, id, 3) a, min_by(id, id, 2) b FROM connection_events

-- @ g_max_n
SELECT max(latency_ms, 3) a, min(latency_ms, 2) b FROM connection_events

-- @ g_arg_max_null
SELECT arg_max_null(id, latency_ms) a, argmax(id, latency_ms) b FROM (SELECT * FROM connection_events WHERE id < 50)

-- @ g_approx_quantile
SELECT approx_quantile(latency_ms, 0.5) IS NOT NULL a, approx_quantile(latency_ms, [0.1, 0.9]) IS NOT NULL b FROM connection_events

-- @ g_reservoir_quantile
SELECT reservoir_quantile(latency_ms, 0.5) IS NOT NULL a FROM connection_events

-- @ g_histogram_bins
SELECT histogram(latency_ms // 100) a FROM connection_events

-- @ g_histogram_exact
SELECT histogram_exact(latency_ms, [100, 200]) a FROM connection_events

-- @ g_stats_from
SELECT stddev(latency_ms) a, stddev_pop(latency_ms) b, variance(latency_ms) c, var_pop(latency_ms) d, corr(latency_ms, rssi_dbm) e, covar_pop(latency_ms, rssi_dbm) f, regr_slope(latency_ms, rssi_dbm) g, kurtosis(latency_ms) h, skewness(latency_ms) i, entropy(outcome) j, mad(latency_ms) k FROM connection_events

-- @ g_any_value
SELECT outcome, any_value(outcome) a, first(outcome) b, last(outcome) c, arbitrary(outcome) d FROM connection_events GROUP BY outcome ORDER BY outcome

-- @ g_bit_aggs
SELECT bit_and(latency_ms) a, bit_or(latency_ms) b, bit_xor(latency_ms) c FROM connection_events

-- @ g_count_distinct_tuple
SELECT count(DISTINCT (outcome, error_code)) a, count(DISTINCT outcome) b FROM connection_events

-- @ g_count_star_variants
SELECT count() a, count(*) b, count(1) c, count(error_code) d FROM connection_events

-- @ g_sum_distinct
SELECT sum(DISTINCT latency_ms % 7) a, avg(DISTINCT latency_ms % 7) b FROM connection_events

-- @ g_grouping_id
SELECT outcome, error_code, grouping_id(outcome, error_code) g FROM connection_events GROUP BY CUBE (outcome, error_code) ORDER BY ALL

-- @ g_group_by_expr
SELECT latency_ms // 100 AS b, count(*) FROM connection_events GROUP BY latency_ms // 100 ORDER BY 1

-- @ g_having_no_group
SELECT count(*) FROM users HAVING count(*) > 0

-- @ g_list_distinct_agg
SELECT list(DISTINCT outcome) IS NOT NULL a FROM connection_events

-- @ g_first_order
SELECT first(model ORDER BY id DESC) a FROM devices

-- @ g_product
SELECT product(x) a, sum(x) b, avg(x) c FROM (VALUES (1), (2), (3)) t(x)

-- @ g_sumkahan
SELECT sum_no_overflow(latency_ms) a, kahan_sum(latency_ms) b, fsum(latency_ms) c FROM connection_events

-- @ g_mode
SELECT mode(outcome) a FROM connection_events

-- @ g_median_list
SELECT median(latency_ms) a, quantile(latency_ms, 0.5) b FROM connection_events

-- @ g_weighted_avg
SELECT weighted_avg(latency_ms, rssi_dbm) a FROM connection_events

-- @ g_arbitrary_window
SELECT id, first_value(id IGNORE NULLS) OVER (ORDER BY id) a, nth_value(id, 2) OVER (ORDER BY id) b FROM connection_events ORDER BY id LIMIT 4

-- @ g_lag_ignore_nulls
SELECT id, lag(error_code IGNORE NULLS) OVER (ORDER BY id) a FROM connection_events ORDER BY id LIMIT 10

-- @ g_window_exclude
SELECT id, sum(id) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW) a FROM connection_events ORDER BY id LIMIT 5

-- @ g_window_exclude_ties
SELECT id, count(*) OVER (ORDER BY latency_ms // 100 RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE TIES) a FROM connection_events ORDER BY id LIMIT 5

-- @ g_window_exclude_group
SELECT id, count(*) OVER (ORDER BY outcome ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING EXCLUDE GROUP) a FROM connection_events ORDER BY id LIMIT 5

-- @ g_window_exclude_no_others
SELECT id, count(*) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE NO OTHERS) a FROM connection_events ORDER BY id LIMIT 5

-- @ g_groups_frame
SELECT id, count(*) OVER (ORDER BY outcome GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW) a FROM connection_events ORDER BY id LIMIT 5

-- @ g_range_frame
SELECT id, sum(latency_ms) OVER (ORDER BY latency_ms RANGE BETWEEN 10 PRECEDING AND 10 FOLLOWING) a FROM connection_events ORDER BY id LIMIT 5

-- @ g_rows_single
SELECT id, sum(id) OVER (ORDER BY id ROWS UNBOUNDED PRECEDING) a FROM connection_events ORDER BY id LIMIT 5

-- @ g_window_order_in_agg
SELECT id, list(id ORDER BY id DESC) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) a FROM connection_events ORDER BY id LIMIT 4

-- @ g_window_distinct
SELECT id, count(DISTINCT outcome) OVER (ORDER BY id) a FROM connection_events ORDER BY id LIMIT 5

-- @ g_cume_dist
SELECT id, cume_dist() OVER (ORDER BY latency_ms) a, percent_rank() OVER (ORDER BY latency_ms) b FROM connection_events ORDER BY id LIMIT 5

-- @ g_window_nulls
SELECT id, row_number() OVER (ORDER BY error_code NULLS FIRST, id) a FROM connection_events ORDER BY id LIMIT 5

-- @ g_window_default_nulls
SELECT id, row_number() OVER (ORDER BY error_code DESC, id) a FROM connection_events ORDER BY id LIMIT 10

-- @ g_lead_lag_default
SELECT id, lead(id, 2, -1) OVER (ORDER BY id) a, lag(id, 1) OVER (ORDER BY id) b FROM connection_events ORDER BY id LIMIT 5

-- @ g_ntile
SELECT id, ntile(4) OVER (ORDER BY id) a FROM connection_events ORDER BY id LIMIT 5

-- @ g_fill
SELECT id, fill(latency_ms) OVER (ORDER BY id) a FROM connection_events ORDER BY id LIMIT 5

-- @ g_order_desc_default_window
SELECT country, rank() OVER (ORDER BY country DESC) r FROM (SELECT DISTINCT country FROM users) ORDER BY r

-- @ g_order_asc_nulls_default
SELECT country FROM (SELECT DISTINCT country FROM users) ORDER BY country

-- @ g_list_order_desc_default
SELECT list(country ORDER BY country DESC) l FROM (SELECT DISTINCT country FROM users)

-- @ g_string_agg_desc_default
SELECT string_agg(country, ',' ORDER BY country DESC) l FROM (SELECT DISTINCT country FROM users)

-- @ g_array_agg_nulls
SELECT array_agg(country ORDER BY country) l FROM (SELECT DISTINCT country FROM users)

-- @ g_first_value_desc
SELECT first_value(country) OVER (ORDER BY country DESC) f FROM (SELECT DISTINCT country FROM users) LIMIT 1

-- @ g_qualify_desc
SELECT country FROM (SELECT DISTINCT country FROM users) QUALIFY row_number() OVER (ORDER BY country DESC) = 1

-- @ g_min_by_desc
SELECT max_by(country, country) a, min_by(country, country) b FROM users

-- @ d_date_diff
SELECT date_diff('day', DATE '2024-01-01', DATE '2024-03-01') a, date_diff('month', TIMESTAMP '2024-01-31', TIMESTAMP '2024-02-01') b, datediff('year', DATE '2020-06-01', DATE '2024-01-01') c

-- @ d_date_sub
SELECT date_sub('day', DATE '2024-01-01', DATE '2024-03-01') a, date_sub('month', TIMESTAMP '2024-01-31', TIMESTAMP '2024-02-01') b, datesub('hour', TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-02 05:00') c

-- @ d_age
SELECT age(TIMESTAMP '2024-03-01', TIMESTAMP '2023-01-15') a, age(DATE '2024-01-01', DATE '2023-01-01') b

-- @ d_strptime_list
SELECT strptime('2024/01/02', ['%Y-%m-%d', '%Y/%m/%d']) a, try_strptime('x', '%Y') b

-- @ d_strftime
SELECT strftime(DATE '2024-01-02', '%d.%m.%Y') a, strftime(TIMESTAMP '2024-01-02 03:04:05', '%H:%M %p %j %U %a %b') b, strftime('%Y', TIMESTAMP '2024-01-02') c

-- @ d_strftime_col
SELECT strftime(ts, '%Y-W%W') w, count(*) FROM connection_events GROUP BY 1 ORDER BY 1 LIMIT 5

-- @ d_epoch
SELECT epoch_ms(1704067200000) a, epoch_ms(TIMESTAMP '2024-01-01') b, epoch_us(TIMESTAMP '2024-01-01') c, epoch_ns(TIMESTAMP '2024-01-01') d, epoch(DATE '2024-01-01') e

-- @ d_make
SELECT make_date(2024, 2, 29) a, make_timestamp(2024, 1, 2, 3, 4, 5.5) b, make_time(1, 2, 3.5) c, make_timestamp(1704067200000000) d

-- @ d_make_struct
SELECT make_date({'year': 2024, 'month': 1, 'day': 5}) a

-- @ d_make_interval
SELECT to_days(2) a, to_hours(3) b, to_minutes(4) c, to_seconds(5.5) d, to_months(1) e, to_years(1) f, to_weeks(1) g

-- @ d_time_bucket
SELECT time_bucket(INTERVAL '1 month', DATE '2024-02-15') a, time_bucket(INTERVAL 15 MINUTE, TIMESTAMP '2024-01-01 10:17') b, time_bucket(INTERVAL '1 week', TIMESTAMP '2024-01-10', TIMESTAMP '2024-01-01') c, time_bucket(INTERVAL '1 day', TIMESTAMP '2024-01-10 05:00', INTERVAL '3 hours') d

-- @ d_last_day
SELECT last_day(DATE '2024-02-01') a, last_day(TIMESTAMP '2023-02-01 10:00') b, dayname(DATE '2024-01-01') c, monthname(TIMESTAMP '2024-05-01') d

-- @ d_parts
SELECT year(ts) y, month(ts) m, day(ts) d, dayofweek(ts) dw, dayofyear(ts) dy, week(ts) w, weekofyear(ts) wy, quarter(ts) q, yearweek(ts) yw, isodow(ts) i, isoyear(ts) iy, hour(ts) h, minute(ts) mi, second(ts) s, millisecond(ts) ms, microsecond(ts) us, era(ts) e, decade(ts) dc, century(ts) c, millennium(ts) ml, julian(ts) j FROM connection_events ORDER BY id LIMIT 2

-- @ d_date_part_list
SELECT date_part(['year', 'month'], DATE '2024-05-06') a, date_part('epoch', TIMESTAMP '2024-01-01') b

-- @ d_extract_forms
SELECT EXTRACT(year FROM DATE '2024-05-06') a, EXTRACT('month' FROM DATE '2024-05-06') b, EXTRACT(epoch FROM TIMESTAMP '2024-01-01') c, EXTRACT(doy FROM DATE '2024-05-06') d, EXTRACT(week FROM DATE '2024-05-06') e, EXTRACT(microseconds FROM TIME '10:00:01.5') f

-- @ d_date_trunc
SELECT date_trunc('quarter', DATE '2024-05-06') a, date_trunc('hour', TIMESTAMP '2024-05-06 10:11') b, datetrunc('year', DATE '2024-05-06') c, date_trunc('week', DATE '2024-05-08') d, date_trunc('decade', DATE '2024-05-08') e

-- @ d_date_trunc_types
SELECT typeof(date_trunc('month', DATE '2024-05-06')) a, typeof(date_trunc('month', TIMESTAMP '2024-05-06')) b

-- @ d_date_add
SELECT date_add(DATE '2024-01-31', INTERVAL 1 MONTH) a, DATE '2024-01-31' + 1 b, DATE '2024-01-31' - 1 c, TIMESTAMP '2024-01-01' + INTERVAL '36 hours' d

-- @ d_interval_expr
SELECT INTERVAL (latency_ms) MILLISECOND a, ts + INTERVAL (id) DAY b, ts + id * INTERVAL 1 HOUR c FROM connection_events ORDER BY id LIMIT 3

-- @ d_interval_plural
SELECT INTERVAL 2 DAYS a, INTERVAL 3 HOURS b, INTERVAL 4 MONTHS c, INTERVAL 1 YEARS d, INTERVAL 10 MINUTES e, INTERVAL 10 SECONDS f

-- @ d_interval_neg
SELECT INTERVAL '-1 day' a, -INTERVAL 1 DAY b, INTERVAL (-2) HOUR c

-- @ d_interval_decimal
SELECT INTERVAL 1.5 DAY a, INTERVAL 1.5 HOUR b, INTERVAL 2.5 YEAR c

-- @ d_interval_arith
SELECT INTERVAL 1 DAY * 3 a, INTERVAL 1 HOUR / 2 b, INTERVAL 1 DAY + INTERVAL 2 HOUR c

-- @ d_gen_ts
SELECT * FROM generate_series(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-02', INTERVAL 6 HOUR)

-- @ d_range_ts
SELECT * FROM range(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-02', INTERVAL '6 hours') t(x)

-- @ d_gen_date_list
SELECT generate_series(DATE '2024-01-01', DATE '2024-01-03', INTERVAL 1 DAY) a

-- @ d_range_scalar_step
SELECT range(0, 10, 3) a, generate_series(10, 0, -5) b

-- @ d_tstz_ops
SELECT TIMESTAMPTZ '2024-01-01 00:00:00+00' + INTERVAL 1 DAY a, date_trunc('day', TIMESTAMPTZ '2024-01-01 10:00:00+00') b

-- @ d_at_time_zone
SELECT TIMESTAMP '2024-01-01 12:00' AT TIME ZONE 'UTC' a, timezone('UTC', TIMESTAMPTZ '2024-01-01 12:00+00') b

-- @ d_isfinite
SELECT isfinite(DATE '2024-01-01') a, isinf('infinity'::TIMESTAMP) b, 'infinity'::DATE c, '-infinity'::TIMESTAMP d

-- @ d_to_timestamp
SELECT to_timestamp(0) a, to_timestamp(1.5) b, make_timestamptz(2024, 1, 1, 0, 0, 0) c

-- @ d_date_literal_forms
SELECT DATE '2024-01-01' a, TIMESTAMP '2024-01-01 00:00:00' b, TIME '12:00' c, TIMESTAMPTZ '2024-01-01 00:00:00Z' d, TIMESTAMP_NS '2024-01-01 00:00:00.123456789' e

-- @ d_datetrunc_ts_col
SELECT date_trunc('month', ts)::DATE AS m, count(*) n FROM connection_events GROUP BY 1 ORDER BY 1 LIMIT 3

-- @ d_dates_cmp
SELECT count(*) FROM connection_events WHERE ts BETWEEN '2024-01-01' AND '2024-02-01'

-- @ d_ts_string_cmp
SELECT count(*) FROM connection_events WHERE ts >= '2024-06-01'::DATE

-- @ d_interval_extract
SELECT EXTRACT(day FROM INTERVAL '3 days 4 hours') a, date_part('hour', INTERVAL '3 days 4 hours') b, to_seconds(60) c

-- @ d_strptime_tz
SELECT strptime('2024-01-01 10:00 +0200', '%Y-%m-%d %H:%M %z') a

-- @ d_weekday_names
SELECT dayname(ts) dn, count(*) FROM connection_events GROUP BY 1 ORDER BY 1

-- @ d_date_diff_iso
SELECT date_diff('week', DATE '2024-01-01', DATE '2024-03-01') a, date_diff('quarter', DATE '2024-01-01', DATE '2024-12-01') b, date_diff('hour', TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-03 05:00') c, date_diff('minute', TIME '10:00', TIME '11:30') d

-- @ d_date_diff_plural
SELECT date_diff('days', DATE '2024-01-01', DATE '2024-03-01') a, date_diff('months', DATE '2024-01-01', DATE '2024-03-01') b, date_diff('d', DATE '2024-01-01', DATE '2024-03-01') c

-- @ d_datepart_abbr
SELECT date_part('y', DATE '2024-03-01') a, date_part('mon', DATE '2024-03-01') b, date_part('dow', DATE '2024-03-01') c, date_part('isoyear', DATE '2024-03-01') d, date_part('yearweek', DATE '2024-03-01') e

-- @ d_date_trunc_abbr
SELECT date_trunc('mon', DATE '2024-03-05') a, date_trunc('y', DATE '2024-03-05') b, date_trunc('d', TIMESTAMP '2024-03-05 10:00') c

-- @ d_interval_diff
SELECT TIMESTAMP '2024-03-01' - TIMESTAMP '2024-01-01' a, DATE '2024-03-01' - DATE '2024-01-01' b

-- @ d_last_day_col
SELECT last_day(ts) l, count(*) FROM connection_events GROUP BY 1 ORDER BY 1 LIMIT 3

-- @ d_timestamp_add_int
SELECT ts + INTERVAL 1 DAY * 2 a FROM connection_events ORDER BY id LIMIT 1

-- @ d_date_add_func
SELECT date_add(DATE '2024-01-01', 5) a

-- @ d_datepart_string_expr
SELECT date_part('minute', TIMESTAMP '2024-01-01 10:11:12') a, date_part('second', TIMESTAMP '2024-01-01 10:11:12.5') b, date_part('milliseconds', TIMESTAMP '2024-01-01 10:11:12.5') c

-- @ d_timezone_hour
SELECT timezone_hour(TIMESTAMPTZ '2024-01-01 10:00+00') a

-- @ d_generate_series_tstz
SELECT count(*) FROM generate_series(TIMESTAMPTZ '2024-01-01 00:00+00', TIMESTAMPTZ '2024-01-02 00:00+00', INTERVAL 1 HOUR)

-- @ d_century_trunc
SELECT date_trunc('century', DATE '2024-01-01') a, date_trunc('millennium', DATE '2024-01-01') b, date_trunc('microseconds', TIMESTAMP '2024-01-01 10:00:00.123456') c

-- @ j_unnest_recursive
SELECT unnest([[1, 2], [3]], recursive := true) AS x

-- @ j_unnest_recursive_struct
SELECT unnest({'a': {'b': 1, 'c': 2}}, recursive := true)

-- @ j_unnest_max_depth
SELECT unnest([[[1]], [[2, 3]]], max_depth := 2) AS x

-- @ j_unnest_struct_list
SELECT unnest([{'a': 1, 'b': 2}, {'a': 3, 'b': 4}], recursive := true)

-- @ j_unnest_two
SELECT unnest([1, 2]) a, unnest(['x', 'y', 'z']) b

-- @ j_unnest_from_multi
SELECT * FROM unnest([1, 2]) t(x) ORDER BY x

-- @ j_unnest_lateral
SELECT u.id, x FROM (SELECT id FROM users ORDER BY id LIMIT 2) u, unnest([1, 2]) t(x) ORDER BY u.id, x

-- @ j_positional
SELECT * FROM (SELECT id FROM users ORDER BY id LIMIT 3) POSITIONAL JOIN (SELECT model FROM devices ORDER BY id LIMIT 2)

-- @ j_asof_using
SELECT count(*) FROM (SELECT device_id, ts FROM connection_events) e ASOF JOIN (SELECT id AS device_id, activated_at AS ts, model FROM devices) d USING (device_id, ts)

-- @ j_asof_left
SELECT count(*), count(d.model) FROM connection_events e ASOF LEFT JOIN devices d ON d.id = e.device_id AND e.ts >= d.activated_at

-- @ j_asof_values
SELECT t.x, p.y FROM (VALUES (1), (5), (10)) t(x) ASOF JOIN (VALUES (0, 'a'), (4, 'b'), (8, 'c')) p(k, y) ON t.x >= p.k ORDER BY t.x

-- @ j_semi
SELECT count(*) FROM users SEMI JOIN devices ON devices.user_id = users.id

-- @ j_anti
SELECT count(*) FROM users ANTI JOIN devices ON devices.user_id = users.id

-- @ j_semi_using
SELECT count(*) FROM (SELECT id AS user_id FROM users) u SEMI JOIN devices USING (user_id)

-- @ j_lateral_func
SELECT u.id, g.n FROM (SELECT id FROM users ORDER BY id LIMIT 2) u, LATERAL (SELECT unnest(range(2)) AS n) g ORDER BY u.id, g.n

-- @ j_lateral_left
SELECT u.id, g.m FROM (SELECT id FROM users ORDER BY id LIMIT 3) u LEFT JOIN LATERAL (SELECT model AS m FROM devices WHERE user_id = u.id ORDER BY id LIMIT 1) g ON true ORDER BY u.id

-- @ j_lateral_implicit
SELECT u.id, (SELECT count(*) FROM devices d WHERE d.user_id = u.id) c FROM users u ORDER BY c DESC, u.id LIMIT 3

-- @ j_implicit_lateral
SELECT x, y FROM (SELECT [1, 2] AS l) t, (SELECT unnest(t.l) AS y) s, (SELECT 1 AS x) ORDER BY y

-- @ j_natural_left
SELECT count(*) FROM (SELECT id AS device_id FROM devices) NATURAL LEFT JOIN connection_events

-- @ j_full_using
SELECT count(*) FROM (SELECT user_id FROM integrations) FULL JOIN (SELECT user_id FROM api_tokens) USING (user_id)

-- @ j_using_star
SELECT * FROM (SELECT 1 AS k, 'a' AS x) a JOIN (SELECT 1 AS k, 'b' AS y) b USING (k)

-- @ j_cross_comma
SELECT count(*) FROM (SELECT 1 UNION ALL SELECT 2) a, (SELECT 1 UNION ALL SELECT 2) b

-- @ j_self_cross
SELECT a.x, b.x FROM (VALUES (1), (2)) a(x) CROSS JOIN (VALUES (3)) b(x) ORDER BY ALL

-- @ u_by_name
SELECT 1 AS a, 2 AS b UNION BY NAME SELECT 3 AS b, 4 AS c

-- @ u_all_by_name
SELECT id, country FROM users WHERE id < 0 UNION ALL BY NAME SELECT 1 AS country, 2 AS id

-- @ u_except_all
SELECT outcome FROM connection_events EXCEPT ALL SELECT outcome FROM connection_events WHERE id > 10

-- @ u_intersect_all
SELECT outcome FROM connection_events INTERSECT ALL SELECT outcome FROM connection_events WHERE id < 10

-- @ u_paren
(SELECT 1 AS a) UNION (SELECT 2) ORDER BY a

-- @ u_nested
SELECT 1 AS a UNION ALL (SELECT 2 UNION ALL SELECT 3) ORDER BY 1

-- @ u_limit_each
(SELECT id FROM users ORDER BY id LIMIT 2) UNION ALL (SELECT id FROM devices ORDER BY id LIMIT 2)

-- @ u_precedence
SELECT 1 AS a UNION SELECT 1 INTERSECT SELECT 2

-- @ u_precedence_except
SELECT 1 AS a UNION ALL SELECT 2 EXCEPT SELECT 2

-- @ u_union_distinct_kw
SELECT 1 AS a UNION DISTINCT SELECT 1

-- @ r_cte_recursive_fib
WITH RECURSIVE fib(a, b, n) AS (SELECT 0, 1, 1 UNION ALL SELECT b, a + b, n + 1 FROM fib WHERE n < 20) SELECT max(b) FROM fib

-- @ r_cte_recursive_union
WITH RECURSIVE t(n) AS (SELECT 1 UNION SELECT n % 5 + 1 FROM t) SELECT n FROM t ORDER BY n

-- @ r_cte_using_key
WITH RECURSIVE t(k, v) USING KEY (k) AS (SELECT 1, 1 UNION SELECT k, v + 1 FROM t WHERE v < 5) SELECT * FROM t

-- @ r_cte_not_materialized
WITH m AS NOT MATERIALIZED (SELECT 1 AS x) SELECT * FROM m

-- @ r_cte_columns
WITH c(a, b) AS (SELECT 1, 2) SELECT a + b FROM c

-- @ r_cte_nested
WITH a AS (WITH b AS (SELECT 1 AS x) SELECT x + 1 AS y FROM b) SELECT y FROM a

-- @ r_cte_recursive_tree
WITH RECURSIVE walk(id, depth) AS (SELECT 1, 0 UNION ALL SELECT id * 2, depth + 1 FROM walk WHERE depth < 5) SELECT list(id ORDER BY id) FROM walk

-- @ r_cte_recursive_list
WITH RECURSIVE p(path) AS (SELECT [1] UNION ALL SELECT list_append(path, path[-1] + 1) FROM p WHERE len(path) < 4) SELECT path FROM p ORDER BY len(path)

-- @ v_values_bare
VALUES (1, 'a'), (2, 'b')

-- @ v_values_from
FROM (VALUES (1), (2)) t(x) SELECT sum(x)

-- @ v_values_alias_only
SELECT * FROM (VALUES (1, 2)) AS t

-- @ v_values_bare_order
VALUES (3), (1), (2)

-- @ v_values_null
SELECT * FROM (VALUES (1, NULL), (NULL, 'x')) t(a, b)

-- @ v_select_where
SELECT 1 AS "x" WHERE 1 = 1

-- @ v_select_where_false
SELECT 1 AS "x" WHERE false

-- @ v_select_having
SELECT 1 AS x HAVING true

-- @ v_select_no_from_agg
SELECT count(*), sum(1)

-- @ f_try
SELECT TRY(CAST('x' AS INTEGER)) a, TRY(1 // 0) b, TRY(log(-1)) c

-- @ f_coalesce_many
SELECT coalesce(NULL, NULL, NULL, NULL, 5, 6) a, coalesce(error_code, outcome, 'z') b FROM connection_events ORDER BY id LIMIT 3

-- @ f_case_no_else
SELECT CASE WHEN latency_ms > 100 THEN 'slow' END a, CASE outcome WHEN 'ok' THEN 1 END b FROM connection_events ORDER BY id LIMIT 5

-- @ f_regexp_extract_groups
SELECT regexp_extract('abc-123', '([a-z]+)-(\d+)', 2) a, regexp_extract('abc-123', '([a-z]+)-(\d+)', ['word', 'num']) b, regexp_extract_all('a1b22', '\d+') c, regexp_extract('abc', 'b') d

-- @ f_regexp_full
SELECT regexp_full_match('abc', 'a.c') a, regexp_matches('ABC', 'b', 'i') b, regexp_replace('aaa', 'a', 'b') c, regexp_replace('aaa', 'a', 'b', 'g') d

-- @ f_format
SELECT format('{}', 42) a, format('{:.2f}', 3.14159) b, format('{:>5}', 'x') c, format('{0} {0}', 'r') d

-- @ f_printf
SELECT printf('%d items', 3) a, printf('%s-%s', 'a', 'b') b, printf('%.3f', 2.5) c, printf('%5s|', 'x') d

-- @ f_like_escape
SELECT 'a_b' LIKE 'a\_b' ESCAPE '\' a, 'axb' LIKE 'a\_b' ESCAPE '\' b, 'a%b' LIKE 'a!%b' ESCAPE '!' c, 'A_B' ILIKE 'a$_b' ESCAPE '$' d

-- @ f_like_default_escape
SELECT 'a\b' LIKE 'a\b' a, 'a_b' LIKE 'a\_b' b

-- @ f_not_like_escape
SELECT 'axb' NOT LIKE 'a\_b' ESCAPE '\' a

-- @ f_row_compare
SELECT ROW(1, 2) = ROW(1, 2) a, ROW(1, 'b') < ROW(1, 'c') b, (1, 2) <> (2, 1) c

-- @ f_count_distinct_row
SELECT count(DISTINCT (outcome, error_code)) a FROM connection_events

-- @ f_nullif_typed
SELECT nullif(latency_ms, 0) a FROM connection_events ORDER BY id LIMIT 2

-- @ f_greatest_null
SELECT greatest(1, NULL, 3) a, least(NULL, 2) b

-- @ f_string_funcs
SELECT repeat('ab', 3) a, rpad('x', 3, '.') b, ltrim('  x') c, rtrim('x  ') d, trim('xxhixx', 'x') e, substr('hello', 2, 3) f, substring('hello', 2) g, substring('hello' FROM 2 FOR 2) h, position('l' IN 'hello') i, instr('hello', 'l') j

-- @ f_string_funcs3
SELECT ends_with('abc', 'c') a, suffix('abc', 'bc') b, prefix('abc', 'ab') c, string_split('a b', ' ') d, str_split('a,b', ',') e, string_to_array('a,b', ',') f, split('a,b', ',') g, array_to_string(['a'], ',') h, list_string_agg(['a', 'b']) i

-- @ f_trim_forms
SELECT trim(BOTH 'x' FROM 'xax') a, trim(LEADING 'x' FROM 'xax') b, trim(TRAILING 'x' FROM 'xax') c

-- @ f_overlay
SELECT overlay('hello' PLACING 'XX' FROM 2 FOR 3) a

-- @ f_position
SELECT position('b' IN 'abc') a, strpos('abc', 'c') b

-- @ f_hash_funcs
SELECT md5('a') a, sha256('a') b, sha1('a') c, hash(1) d, to_hex(255) e, from_hex('FF') f, to_base64('a'::BLOB) g, from_base64('YQ==') h, bin(5) i, hex(255) j

-- @ f_math
SELECT round(2.5) a, round(-2.5) b, round(1.2345, 2) c, trunc(2.7) d, ceiling(1.1) e, sign(-3) f, ln(1) g, log(100) h, log2(8) i, log10(1000) j, exp(0) k, pi() l, degrees(pi()) m, radians(180) n, sin(0) o, cbrt(27) p, gcd(12, 18) q, lcm(4, 6) r, even(3) s, round_even(2.5, 0) t

-- @ f_list_funcs
SELECT list_extract([1, 2], 1) a, list_element([1, 2], 2) b, array_length([1, 2]) c, list_unique([1, 1, 2]) d, list_count([1, NULL]) e, list_min([3, 1]) f, list_max([3, 1]) g, list_avg([1, 2]) h, list_last([1, 2]) i, list_first([1, 2]) j, list_any_value([1]) k, list_zip([1], ['a']) l, list_resize([1], 3) m, list_where([1, 2], [true, false]) n, list_grade_up([3, 1]) o, list_select([10, 20], [2]) p, list_cosine_similarity([1.0, 0.0], [1.0, 0.0]) q, list_inner_product([1.0], [2.0]) r

-- @ f_list_slice_neg
SELECT list_slice([1, 2, 3, 4], -2, -1) a, [1, 2, 3][0] b, [1, 2, 3][4] c

-- @ f_array_funcs
SELECT array_length([1, 2, 3], 1) a, array_position([1, 2], 2) b, array_contains([1], 1) c, array_append([1], 2) d, array_prepend(0, [1]) e, array_cat([1], [2]) f, array_distinct([1, 1]) g, array_slice([1, 2, 3], 1, 2) h

-- @ f_list_agg_funcs
SELECT list_aggregate([1, 2, 3], 'max') a, list_aggr([1, 2], 'string_agg', '-') b, list_aggregate(['a', 'b'], 'string_agg', '|') c

-- @ f_struct_funcs
SELECT struct_pack(a := 1) a, row(1, 2) b, struct_extract({'x': 1}, 'x') c, struct_extract(row(1, 2), 1) d

-- @ f_json_funcs
SELECT json_extract_string('{"a":"x"}', '$.a') a, json_array_length('[1,2]') b, json_keys('{"a":1}') c, json_type('1') d, json_valid('{') e, json_object('k', 1) f, json_array(1, 2) g, json_structure('{"a":1}') h, json_transform('{"a":1}', '{"a":"INTEGER"}') i, json_contains('[1,2]', '1') j, json_quote('x') k, json_group_array(1) l

-- @ f_json_path_multi
SELECT json_extract('{"a":1,"b":2}', ['$.a', '$.b']) a, '{"a":[1,2]}'::JSON -> '$.a[0]' b, '{"a":[1,2]}'::JSON ->> '$.a[#-1]' c

-- @ f_alias_funcs
SELECT len('abc') a, strlen('abc') b, char_length('abc') c, character_length('abc') d, lcase('A') e, ucase('a') f, nullif('', '') g

-- @ f_string_agg_sep_default
SELECT string_agg(x) a FROM (VALUES ('a'), ('b')) t(x)

-- @ f_concat_ws_list
SELECT concat_ws(', ', 'a', NULL, 'b') a, concat('a', 1, NULL, true) b

-- @ f_contains
SELECT contains('abc', 'b') a, contains([1, 2], 1) b, contains(MAP {'a': 1}, 'a') c

-- @ f_bar
SELECT bar(5, 0, 10, 10) a

-- @ f_cast_to_type_of
SELECT cast_to_type('1', 0) a

-- @ f_generate_subscripts
SELECT generate_subscripts([1, 2], 1) a

-- @ f_unicode_funcs
SELECT unicode('é') a, ord('a') b, nfc_normalize('é') c, strip_accents('é') d, lower('ÄÖÜ') e

-- @ f_sum_bool
SELECT sum(two_factor_enabled::INT) a, sum(CASE WHEN two_factor_enabled THEN 1 ELSE 0 END) b FROM users

-- @ f_columns_struct
SELECT struct_pack(*COLUMNS(['model', 'category'])) s FROM devices ORDER BY id LIMIT 1

-- @ f_list_has
SELECT list_has([1, 2], 2) a, array_has([1, 2], 3) b

-- @ f_array_cross
SELECT array_cross_product([1.0, 0.0, 0.0]::FLOAT[3], [0.0, 1.0, 0.0]::FLOAT[3]) a, array_inner_product([1, 2]::DOUBLE[2], [3, 4]::DOUBLE[2]) b

-- @ f_regexp_split
SELECT regexp_split_to_table('a1b2c', '\d') AS p

-- @ f_bitstring
SELECT bitstring('101', 6) a, get_bit('1010'::BIT, 1) b, set_bit('1010'::BIT, 0, 0) c, bit_length('1010'::BIT) d, bit_position('1'::BIT, '0101'::BIT) e

-- @ f_hugeint_math
SELECT 170141183460469231731687303715884105727::HUGEINT - 1 a, (2::HUGEINT) ** 2 b

-- @ f_nullif_case
SELECT CASE WHEN NULL THEN 1 ELSE 2 END a, CASE NULL WHEN NULL THEN 1 ELSE 2 END b

-- @ f_in_subquery_tuple
SELECT count(*) FROM connection_events WHERE (outcome, error_code) IN (SELECT outcome, error_code FROM connection_events WHERE id < 5)

-- @ f_exists_scalar
SELECT EXISTS (SELECT 1 FROM users) a, NOT EXISTS (SELECT 1 FROM users WHERE false) b

-- @ f_all_subquery
SELECT 1 < ALL (SELECT 2) a, 1 = SOME (SELECT 1) b

-- @ f_array_subquery
SELECT ARRAY(SELECT DISTINCT outcome FROM connection_events ORDER BY 1) a

-- @ f_list_subquery
SELECT (SELECT list(DISTINCT outcome ORDER BY outcome) FROM connection_events) a

-- @ f_array_constructor
SELECT ARRAY[1, 2, 3] a, ARRAY['a'] b

-- @ f_nested_access
SELECT [{'a': [1, 2]}][1].a[2] AS v

-- @ f_map_subscript_col
SELECT histogram(outcome)['ok'] AS ok FROM connection_events

-- @ f_list_negative_index
SELECT (list(id ORDER BY id))[-1] a FROM devices

-- @ n_sci
SELECT 1e3 a, 1.5e-2 b, 2E10 c, typeof(1e3) t

-- @ n_underscore
SELECT 1_000_000 a, 1_000.5 b

-- @ n_dot
SELECT .5 a, 5. b, typeof(.5) t, typeof(5.) u

-- @ n_big_decimal
SELECT 123456789012345678901234567890.5 a, typeof(123456789012345678901234567890.5) t, 1.0 b, typeof(1.0) u, 0.000001 c, typeof(0.000001) v

-- @ n_very_big_int
SELECT 99999999999999999999 a, typeof(99999999999999999999) t, 340282366920938463463374607431768211455 b, typeof(340282366920938463463374607431768211455) u

-- @ n_big_int_types
SELECT typeof(2147483647) a, typeof(2147483648) b, typeof(9223372036854775807) c, typeof(9223372036854775808) d, typeof(-2147483648) e

-- @ n_double_eq
SELECT 1 == 1 a, 'a' == 'a' b

-- @ n_ne
SELECT 1 != 2 a, 1 <> 2 b

-- @ n_chain_cmp
SELECT (1 < 2) = true a

-- @ q_quantile_even
SELECT quantile(x, 0.5) a, median(x) b, quantile_cont(x, 0.5) c, quantile_disc(x, 0.5) d FROM (VALUES (1), (2), (3), (4)) t(x)

-- @ q_quantile_list_even
SELECT quantile(x, [0.5]) a, percentile_cont(0.5) WITHIN GROUP (ORDER BY x) b, percentile_disc(0.5) WITHIN GROUP (ORDER BY x) c FROM (VALUES (1), (2), (3), (4)) t(x)

-- @ q_median_str
SELECT median(x) a FROM (VALUES ('a'), ('b')) t(x)

-- @ q_median_date
SELECT median(x) a, quantile_disc(x, 0.5) b FROM (VALUES (DATE '2024-01-01'), (DATE '2024-01-04')) t(x)

-- @ q_approx_count
SELECT approx_count_distinct(x) a FROM (VALUES (1), (2), (2)) t(x)

-- @ l_log_two
SELECT log(2, 8) a, log(10, 1000) b, log(100) c, ln(100) d, log2(8) e, log10(100) f

-- @ l_atan2
SELECT atan2(1, 2) a, atan(1) b, pow(2, 0.5) c, sqrt(2) d

-- @ l_round_neg
SELECT round(1234.5, -2) a, round(1.5) b, round(-1.5) c, round(2.5::DOUBLE) d, round(0.5::DOUBLE) e, round(-0.5::DOUBLE) f, roundbankers(2.5, 0) g

-- @ l_div_types
SELECT 5 / 2 a, typeof(5 / 2) t, 5::DECIMAL(3,0) / 2 b, typeof(5::DECIMAL(3,0) / 2) u, divide(5, 2) c

-- @ l_div_int_cols
SELECT latency_ms / 3 a, typeof(latency_ms / 3) t FROM connection_events ORDER BY id LIMIT 2

-- @ l_mod_neg
SELECT -5 % 3 a, 5 % -3 b, mod(-5, 3) c

-- @ l_sign_zero
SELECT sign(0) a, sign(-0.0) b

-- @ t_strftime_codes1
SELECT strftime(TIMESTAMP '2024-03-05 07:08:09.123456', '%a %A %w %u %d %-d %b %B %m %-m %y %Y') a

-- @ t_strftime_codes2
SELECT strftime(TIMESTAMP '2024-03-05 07:08:09.123456', '%H %-H %I %-I %p %M %-M %S %-S %f %z %Z %j %-j %U %W %c %x %X %%') a

-- @ t_strftime_ms
SELECT strftime(TIMESTAMP '2024-03-05 07:08:09.123456', '%g') a

-- @ t_strftime_iso
SELECT strftime(DATE '2024-12-30', '%G-W%V-%u') a

-- @ t_strptime_codes
SELECT strptime('5/3/24 7:08 PM', '%-d/%-m/%y %-I:%M %p') a, strptime('2024-065', '%Y-%j') b, strptime('Tue Mar 05 2024', '%a %b %d %Y') c

-- @ t_strptime_frac
SELECT strptime('2024-03-05 07:08:09.123', '%Y-%m-%d %H:%M:%S.%g') a, strptime('2024-03-05 07:08:09.123456', '%Y-%m-%d %H:%M:%S.%f') b

-- @ t_strptime_ns
SELECT strptime('2024-03-05 07:08:09.123456789', '%Y-%m-%d %H:%M:%S.%n') a

-- @ t_try_strptime
SELECT try_strptime('2024-03-05', '%Y-%m-%d') a, try_strptime('bad', '%Y') b

-- @ t_strptime_tstz
SELECT strptime('2024-03-05 07:08 +01:00', '%Y-%m-%d %H:%M %z') a, typeof(strptime('2024-03-05 07:08 +01:00', '%Y-%m-%d %H:%M %z')) t

-- @ r_gs_one
SELECT * FROM generate_series(3) t(x)

-- @ r_range_one
SELECT * FROM range(3) t(x)

-- @ r_gs_two
SELECT * FROM generate_series(1, 3)

-- @ r_range_two
SELECT * FROM range(1, 3)

-- @ r_gs_step_neg
SELECT * FROM generate_series(5, 1, -2)

-- @ r_range_scalar
SELECT range(3) a, range(1, 3) b, generate_series(3) c, generate_series(1, 3) d, range(1, 10, 4) e, generate_series(1, 10, 4) f

-- @ r_range_date_scalar
SELECT range(DATE '2024-01-01', DATE '2024-01-03', INTERVAL 1 DAY) a, generate_series(DATE '2024-01-01', DATE '2024-01-03', INTERVAL 1 DAY) b

-- @ r_gs_ts_no_step
SELECT count(*) FROM generate_series(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-01 00:00:05', INTERVAL 1 SECOND)

-- @ r_range_unnest
SELECT unnest(generate_series(1, 3)) a

-- @ r_gs_column
SELECT g FROM generate_series(1, 3) AS g ORDER BY g

-- @ r_gs_column2
SELECT generate_series FROM generate_series(1, 3) ORDER BY 1

-- @ r_range_column
SELECT range FROM range(2) ORDER BY 1

-- @ sw_where_pct_all
SELECT count(*) AS n FROM (SELECT * FROM connection_events WHERE outcome = 'ok' USING SAMPLE 100%)

-- @ sw_system_rows_seed
SELECT id FROM connection_events USING SAMPLE 10 ROWS (system, 5)

-- @ sw_reservoir_pct
SELECT count(*) AS n FROM (SELECT * FROM connection_events USING SAMPLE 50% (reservoir, 3))

-- @ sw_sample_percent_seed_kw
SELECT id FROM connection_events USING SAMPLE 10 PERCENT (bernoulli, 42)

-- @ sw_sample_seed_zero
SELECT id FROM connection_events USING SAMPLE 3% (bernoulli, 0)

-- @ sw_sample_order_limit
SELECT id FROM connection_events USING SAMPLE 100% ORDER BY id LIMIT 3

-- @ sw_sample_qualify
SELECT id FROM connection_events QUALIFY row_number() OVER (ORDER BY id) <= 5 USING SAMPLE 3 ROWS (reservoir, 1)

-- @ m_columns_alias_regex
SELECT COLUMNS('(.*)_at') AS '\1' FROM devices ORDER BY id LIMIT 1

-- @ m_columns_replace
SELECT COLUMNS(* REPLACE (upper(model) AS model)) FROM devices ORDER BY id LIMIT 1

-- @ m_positional_ref
SELECT #1, #2 FROM (SELECT 1 AS a, 2 AS b)

-- @ m_table_col_alias
SELECT a, b FROM (SELECT 1, 2) t(a, b)

-- @ m_table_alias_cols
SELECT x FROM users AS u(x) ORDER BY x LIMIT 2

-- @ m_ident_case
SELECT Country, COUNT(*) FROM Users GROUP BY Country ORDER BY Country NULLS LAST

-- @ m_ident_case_quoted
SELECT "COUNTRY" FROM users GROUP BY 1 ORDER BY 1 LIMIT 1

-- @ m_struct_case
SELECT {'Ab': 1}.ab AS a, {'Ab': 1}['Ab'] AS b

-- @ m_select_star_twice
SELECT *, * FROM (SELECT 1 AS a)

-- @ m_order_by_expr_alias
SELECT latency_ms AS l FROM connection_events ORDER BY l + 0 DESC, id LIMIT 3

-- @ m_order_by_unselected
SELECT id FROM connection_events ORDER BY latency_ms DESC, id LIMIT 3

-- @ m_distinct_order
SELECT DISTINCT outcome FROM connection_events ORDER BY outcome DESC

-- @ m_group_by_alias
SELECT latency_ms // 100 AS bucket, count(*) FROM connection_events GROUP BY bucket ORDER BY bucket

-- @ m_where_alias
SELECT latency_ms AS l FROM connection_events WHERE l > 500 ORDER BY id LIMIT 3

-- @ m_having_alias
SELECT outcome, count(*) AS c FROM connection_events GROUP BY outcome HAVING c > 1 ORDER BY outcome

-- @ m_alias_reuse
SELECT latency_ms * 2 AS a, a + 1 AS b FROM connection_events ORDER BY id LIMIT 2

-- @ m_lambda_col_clash
SELECT list_transform([1, 2], lambda id: id + 1) a FROM users ORDER BY users.id LIMIT 1

-- @ m_list_comp_col_clash
SELECT [id * 2 FOR id IN [1, 2]] a FROM users ORDER BY users.id LIMIT 1

-- @ m_exclude_join_dup
SELECT * EXCLUDE (u.id) FROM users u JOIN (SELECT 1 AS id) x ON true ORDER BY created_at, country LIMIT 2

-- @ m_not_in_null
SELECT 1 NOT IN (2, NULL) a, 1 IN (2, NULL) b

-- @ m_cmp_list
SELECT [1, 2] = [1, 2] a, [1, 2] < [1, 3] b, {'a': 1} = {'a': 1} c

-- @ m_interval_mul_cast
SELECT (2 * INTERVAL 1 DAY)::VARCHAR a

-- @ m_subquery_in_select_order
SELECT (SELECT max(id) FROM users) = (SELECT max(id) FROM users) a

-- @ m_string_agg_distinct_order
SELECT string_agg(DISTINCT outcome, ',') IS NOT NULL a FROM connection_events

-- @ m_list_sort_desc_nulls
SELECT list_sort([3, NULL, 1], 'DESC') a, array_reverse_sort([1, 2]) b

-- @ m_array_reverse
SELECT list_reverse([1, 2, 3]) a, array_reverse([1, 2]) b

-- @ m_substring_neg
SELECT substring('hello', -3) a, substring('hello', -3, 2) b, substr('hello', 0, 2) c, left('hello', -2) d, right('hello', -2) e

-- @ m_split_part_neg
SELECT split_part('a.b.c', '.', -1) a, split_part('a.b.c', '.', 5) b

-- @ m_lpad_multi
SELECT lpad('x', 5, 'ab') a, rpad('x', 0, 'a') b, lpad('hello', 2, 'x') c

-- @ m_ltrim_chars
SELECT ltrim('xxa', 'x') a, rtrim('axx', 'x') b

-- @ m_regexp_opts
SELECT regexp_replace('AbAb', 'a', '-', 'gi') a, regexp_matches('a\nb', 'a.b', 's') b, regexp_extract('AB', 'b', 0, 'i') c

-- @ m_regexp_backref
SELECT regexp_replace('abc', '(b)', '[\1]') a

-- @ m_regexp_escape
SELECT regexp_escape('a.b') a

-- @ m_array_length_nested
SELECT array_length([[1, 2], [3]]) a, len([[1, 2]]) b

-- @ m_count_if
SELECT count_if(latency_ms > 100) a, countif(latency_ms > 100) b FROM connection_events

-- @ m_first_value_default_frame
SELECT id, last_value(id) OVER (ORDER BY id) l FROM connection_events ORDER BY id LIMIT 3

-- @ m_ends_with
SELECT ends_with('abc', 'bc') a, suffix('abc', 'x') b

-- @ m_array_has_any
SELECT array_has_any([1, 2], [3]) a, array_has_all([1, 2], [1]) b

-- @ m_hash_types
SELECT typeof(hash('x')) a, typeof(md5('x')) b

-- @ m_day_of_week_names
SELECT dayofweek(DATE '2024-03-03') a, isodow(DATE '2024-03-03') b, weekday(DATE '2024-03-03') c

-- @ m_week_funcs
SELECT week(DATE '2024-01-01') a, weekofyear(DATE '2024-12-30') b, yearweek(DATE '2024-12-30') c, isoyear(DATE '2024-12-30') d

-- @ m_epoch_types
SELECT typeof(epoch(TIMESTAMP '2024-01-01')) a, typeof(epoch_ms(TIMESTAMP '2024-01-01')) b, typeof(epoch_ms(1)) c

-- @ m_to_timestamp_types
SELECT typeof(to_timestamp(1)) a, typeof(make_timestamp(1)) b, typeof(epoch_us(TIMESTAMP '2024-01-01')) c

-- @ m_date_add_variants
SELECT date_add(DATE '2024-01-01', INTERVAL 5 DAY) a, date_add(TIMESTAMP '2024-01-01', INTERVAL 5 HOUR) b, DATE '2024-01-01' + INTERVAL 5 DAY c, DATE '2024-01-01' + 5 d

-- @ m_date_add_int_col
SELECT date_add(ts::DATE, 3) a FROM connection_events ORDER BY id LIMIT 2

-- @ m_date_add_neg
SELECT date_add(DATE '2024-01-01', -1) a

-- @ m_date_minus_int
SELECT DATE '2024-01-10' - 3 a, typeof(DATE '2024-01-10' - 3) t

-- @ js_key_dot
SELECT '{"a.b": 1, "a": {"b": 2}}'::JSON ->> 'a.b' AS v, '{"a.b": 1, "a": {"b": 2}}'::JSON -> 'a.b' AS w

-- @ js_key_space
SELECT '{"a b": 1}'::JSON ->> 'a b' AS v

-- @ js_key_bracket
SELECT '{"a[0]": 1, "a": [5]}'::JSON ->> 'a[0]' AS v

-- @ js_key_quote
SELECT '{"a\"b": 1}'::JSON ->> 'a"b' AS v

-- @ js_key_star
SELECT '{"*": 1, "a": 2}'::JSON ->> '*' AS v

-- @ js_neg_index
SELECT '[1, 2, 3]'::JSON -> -1 AS v, '[1, 2, 3]'::JSON ->> -1 AS w

-- @ js_key_empty
SELECT '{"": 1}'::JSON ->> '' AS v

-- @ js_pointer
SELECT '{"a": {"b": 2}}'::JSON ->> '/a/b' AS v

-- @ js_extract_func_key
SELECT json_extract('{"a.b": 1}', 'a.b') AS v, json_extract_string('{"a b": "x"}', 'a b') AS w

-- @ js_extract_func_dot
SELECT json_extract('{"a.b": 1, "a": {"b": 2}}', '"a.b"') AS v

-- @ js_col_key
SELECT j ->> k AS v FROM (SELECT '{"a": 1}'::JSON AS j, 'a' AS k)

-- @ js_chain
SELECT '{"a": {"b": {"c": 3}}}'::JSON -> 'a' -> 'b' ->> 'c' AS v

-- @ js_string_arrow
SELECT '{"a": 1}' -> 'a' AS v, '{"a": 1}' ->> 'a' AS w

-- @ js_index_str
SELECT '{"0": "zero"}'::JSON ->> '0' AS v

-- @ ls_sort_desc_nulls_first
SELECT list_sort([3, NULL, 1], 'DESC', 'NULLS FIRST') a, list_sort([3, NULL, 1], 'desc') b, list_sort([3, NULL, 1], 'DESC', 'NULLS LAST') c, list_sort([3, NULL, 1], 'ASC', 'NULLS LAST') d

-- @ ls_sort_nulls_only
SELECT list_sort([3, NULL, 1], 'ASC') a, list_reverse_sort([3, NULL, 1], 'NULLS LAST') b, array_sort([2, NULL, 1], 'DESC') c

-- @ pc_desc
SELECT percentile_cont(0.25) WITHIN GROUP (ORDER BY x DESC) a, percentile_disc(0.25) WITHIN GROUP (ORDER BY x DESC) b, percentile_cont([0.25, 0.9]) WITHIN GROUP (ORDER BY x DESC) c FROM (VALUES (1), (2), (3), (4), (10)) t(x)

-- @ pc_mode_desc
SELECT mode() WITHIN GROUP (ORDER BY x DESC) a FROM (VALUES (1), (2), (2), (3), (3)) t(x)

-- @ pc_filter
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FILTER (WHERE x > 1) a FROM (VALUES (1), (2), (3), (4), (10)) t(x)

-- @ mc_method_call
SELECT 'abc'.upper() a, [1, 2].list_sum() b, model.lower() c FROM devices ORDER BY id LIMIT 2

-- @ mc_method_chain
SELECT ' abc '.trim().upper().length() a

-- @ mc_struct_field_quoted
SELECT {'a b': 1}."a b" AS v, {'a b': 1}['a b'] AS w

-- @ mc_dotted_col
SELECT "a.b" FROM (SELECT 1 AS "a.b")

-- @ mc_keyword_col
SELECT "year", "order" FROM (SELECT 1 AS year, 2 AS "order")

-- @ mc_alias_case
SELECT 1 AS Foo, 2 AS BAR, id AS Id FROM users ORDER BY users.id LIMIT 1

-- @ mc_from_sub_noalias
SELECT * FROM (FROM users SELECT id) ORDER BY id LIMIT 2

-- @ mc_from_two
FROM (SELECT 1 AS a), (SELECT 2 AS b) SELECT a + b

-- @ mc_struct_in_list_lambda
SELECT list_transform([{'a': 1}, {'a': 2}], lambda s: s.a * 10) AS v

-- @ mc_list_filter_index
SELECT list_filter([10, 20, 30], lambda x, i: i > 1) AS v

-- @ mc_unnest_struct_cols
SELECT unnest([{'a': 1, 'b': 2}])

-- @ mc_dollar_param_like
SELECT 'cost: $5' AS v, '{}' AS w, '%s' AS x

-- @ mc_comment_in_string
SELECT '-- not a comment' AS a, '/* nor this */' AS b

-- @ mc_semicolon_in_string
SELECT 'a;b' AS a

-- @ mc_nested_comment
SELECT /* outer /* inner */ still */ 1 AS a

-- @ mc_limit_all
SELECT id FROM users ORDER BY id LIMIT ALL OFFSET 698

-- @ mc_limit_null
SELECT count(*) FROM (SELECT id FROM users LIMIT NULL)

-- @ mc_offset_rows
SELECT id FROM users ORDER BY id OFFSET 697 ROWS

-- @ mc_group_empty
SELECT count(*) FROM users GROUP BY ()

-- @ mc_distinct_on_noorder
SELECT count(*) FROM (SELECT DISTINCT ON (category) category, model FROM devices)

-- @ mc_distinct_on_multi
SELECT DISTINCT ON (category, model) category, model, id FROM devices ORDER BY category, model, id DESC

-- @ mc_any_array
SELECT 2 = ANY([1, 2, 3]) a, 5 > ALL([1, 2]) b

-- @ mc_count_over_empty
SELECT id, count(*) OVER () c FROM users ORDER BY id LIMIT 2

-- @ mc_rows_partition_only
SELECT id, sum(id) OVER (PARTITION BY country) s FROM users ORDER BY id LIMIT 2

-- @ mc_nth_value_from_last
SELECT nth_value(x, 1) OVER (ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) a FROM (VALUES (1), (2)) t(x)

-- @ mc_struct_pack_names
SELECT struct_pack("Key" := 1, b := 2) AS s

-- @ mc_row_lt
SELECT row(1, 2) < row(1, 3) AS lt

-- @ mc_tuple_ne
SELECT (1, 2) <> (2, 1) AS ne

-- @ mc_tuple_lt
SELECT (1, 2) < (1, 3) AS lt

-- @ mc_row_eq
SELECT row(1, 2) = row(1, 2) AS eq

-- @ mc_values_bare
VALUES (1, 'a'), (2, 'b')

-- @ mc_values_bare_order
VALUES (3), (1), (2) ORDER BY 1

-- @ mc_values_union
VALUES (1) UNION ALL SELECT 2

-- @ mc_positional_ref
SELECT #1, #2 FROM (SELECT 1 AS a, 2 AS b)

-- @ mc_positional_ref_order
SELECT a, b FROM (SELECT 2 AS a, 1 AS b UNION ALL SELECT 1, 2) ORDER BY #2

-- @ mc_date_add_int
SELECT date_add(DATE '2024-01-01', 5) AS a, date_add(DATE '2024-01-01', 5) = DATE '2024-01-06' AS b

-- @ mc_dot_decimal
SELECT .5 AS a, typeof(.5 * 3) AS b, -.25 AS c

-- @ mc_regexp_group_zero
SELECT regexp_extract('abc', 'b', 0) a, regexp_extract('abc', '(b)(c)') b

-- @ mc_regexp_named
SELECT regexp_extract('2024-03', '(\d+)-(\d+)', ['y', 'm']) a

-- @ mc_string_agg_filter
SELECT string_agg(model, ',' ORDER BY model) FILTER (WHERE category = 'camera') a FROM (SELECT DISTINCT model, category FROM devices)

-- @ mc_array_agg_filter
SELECT array_agg(DISTINCT category ORDER BY category) FILTER (WHERE model LIKE 'P%') a FROM devices

-- @ mc_count_distinct_filter
SELECT count(DISTINCT model) FILTER (WHERE category = 'camera') a FROM devices

-- @ mc_sum_filter_over
SELECT id, sum(latency_ms) FILTER (WHERE outcome = 'ok') OVER (ORDER BY id ROWS 1 PRECEDING) a FROM connection_events ORDER BY id LIMIT 3

-- @ mc_in_subquery_neg
SELECT count(*) FROM users WHERE id NOT IN (SELECT user_id FROM devices WHERE user_id IS NOT NULL)

-- @ mc_exists_corr
SELECT count(*) FROM devices d WHERE EXISTS (SELECT 1 FROM connection_events e WHERE e.device_id = d.id AND e.outcome <> 'ok')

-- @ mc_case_in
SELECT CASE WHEN outcome IN ('ok') THEN 'g' WHEN outcome LIKE 't%' THEN 't' END AS c, count(*) FROM connection_events GROUP BY 1 ORDER BY 1 NULLS FIRST

-- @ mc_coalesce_types
SELECT coalesce(NULL, 1, 2.5) a, typeof(coalesce(NULL, 1, 2.5)) t

-- @ mc_greatest_types
SELECT greatest(1, 2.5) a, typeof(greatest(1, 2.5)) t, greatest('a', 'B') s

-- @ mc_if_types
SELECT if(true, 1, 2.5) a, typeof(if(true, 1, 2.5)) t

-- @ mc_iif
SELECT CASE WHEN true THEN 1 ELSE NULL END a

-- @ mc_nullif_types
SELECT typeof(nullif(1, 1.0)) a

-- @ mc_concat_op_types
SELECT typeof('a' || 1) a, typeof([1] || [2.5]) b

-- @ mc_interval_month_day
SELECT DATE '2024-01-31' + INTERVAL '1 month 1 day' AS a, INTERVAL '1 month 1 day' AS b

-- @ mc_interval_combined_hours
SELECT INTERVAL '1 day 2 hours 3 minutes' AS a, INTERVAL '2 hours 30 minutes' AS b, INTERVAL '1 year 2 months' AS c

-- @ mc_interval_ms_us
SELECT INTERVAL '5 milliseconds' a, INTERVAL '7 microseconds' b, INTERVAL '1 week' c, INTERVAL '1 quarter' d, INTERVAL '1 decade' e, INTERVAL '1 century' f

-- @ mc_interval_ago
SELECT INTERVAL '1 day ago' a

-- @ mc_interval_fraction_str
SELECT INTERVAL '1.5 days' a, INTERVAL '0.5 month' b, INTERVAL '1.5 years' c

-- @ mc_interval_plural_str
SELECT INTERVAL '3 days' a, INTERVAL '3 DAYS' b, INTERVAL '3day' c, INTERVAL '3d' d

-- @ mc_interval_abbr
SELECT INTERVAL '3 hrs' a, INTERVAL '3 mins' b, INTERVAL '3 secs' c, INTERVAL '3 mons' d, INTERVAL '3 yrs' e, INTERVAL '3 ms' f, INTERVAL '3 us' g, INTERVAL '3 h' h, INTERVAL '3 m' i, INTERVAL '3 s' j, INTERVAL '3 y' k, INTERVAL '3 w' l

-- @ mc_interval_spaces
SELECT INTERVAL '  2   days  ' AS a

-- @ mc_interval_num_unit_str
SELECT INTERVAL '2' DAYS AS a, INTERVAL '-2' MONTH AS b, INTERVAL '+2' YEAR AS c

-- @ mc_interval_expr_str
SELECT INTERVAL ('2' || ' days') AS a

-- @ mc_interval_col_str
SELECT INTERVAL (x) AS a FROM (SELECT '2 days' AS x)

-- @ mc_interval_cast_col
SELECT x::INTERVAL AS a FROM (SELECT '2 days 3 hours' AS x)

-- @ mc_interval_bigger
SELECT INTERVAL '100000 hours' AS a, INTERVAL '36 months' AS b

-- @ mc_interval_in_window
SELECT id, count(*) OVER (ORDER BY ts RANGE BETWEEN INTERVAL '1 day 12 hours' PRECEDING AND CURRENT ROW) c FROM connection_events ORDER BY id LIMIT 3

-- @ mc_time_bucket_str
SELECT time_bucket(INTERVAL '2 hours 30 minutes', TIMESTAMP '2024-01-01 05:17') AS a

-- @ mc_date_trunc_tstz
SELECT date_trunc('day', TIMESTAMPTZ '2024-01-01 23:30:00+00') AS a

-- @ fx_apply
SELECT apply([1, 2], lambda x: x * x) AS a

-- @ fx_apply_noalias
SELECT apply([1, 2], lambda x: x * x)

-- @ fx_decode
SELECT decode('\xC3\xA9'::BLOB) AS a

-- @ fx_jaro3
SELECT jaro_winkler_similarity('ABC', 'abc', 0.5) AS a, jaro_winkler_similarity('abc', 'abd', 0.99) AS b, jaro_similarity('ABC', 'abc', 0.1) AS c

-- @ fx_jaro2
SELECT jaro_winkler_similarity('ABC', 'abc') AS a

-- @ fx_reduce_init
SELECT reduce([1, 2, 3], lambda a, b: a + b, 100) AS a, reduce(['a', 'b'], lambda acc, x: acc || x, '>') AS b

-- @ fx_list_reduce_init
SELECT list_reduce(['a', 'b'], lambda acc, x: acc || x, '>') AS b, array_reduce([1, 2], lambda a, b: a * b, 10) AS c

-- @ fx_date_diff_col
SELECT p, date_diff(p, DATE '2024-01-01', DATE '2024-03-01') AS d FROM (VALUES ('day'), ('month')) t(p) ORDER BY p

-- @ fx_date_trunc_col
SELECT p, date_trunc(p, TIMESTAMP '2024-05-17 10:11') AS d FROM (VALUES ('day'), ('month')) t(p) ORDER BY p

-- @ fx_date_part_col
SELECT p, date_part(p, TIMESTAMP '2024-05-17 10:11') AS d FROM (VALUES ('day'), ('month')) t(p) ORDER BY p

-- @ fx_date_sub_col
SELECT p, date_sub(p, DATE '2024-01-01', DATE '2024-03-01') AS d FROM (VALUES ('day'), ('month')) t(p) ORDER BY p

-- @ fx_datediff_col
SELECT p, datediff(p, DATE '2024-01-01', DATE '2024-03-01') AS d FROM (VALUES ('day'), ('month')) t(p) ORDER BY p

-- @ fx_date_trunc_param_named_like_unit
SELECT date_trunc(month, TIMESTAMP '2024-05-17') AS d FROM (SELECT 'year' AS month)

-- @ fx_instr
SELECT instr('hello', 'l') AS a, strpos('hello', 'l') AS b

-- @ fx_regexp_extract_flags
SELECT regexp_extract('AB', 'b', 0, 'i') AS a, regexp_extract_all('AbAB', 'b', 0, 'i') AS b, regexp_replace('AB', 'b', 'x', 'i') AS c, regexp_matches('AB', 'b', 'i') AS d

-- @ fx_regexp_flags_c
SELECT regexp_matches('AB', 'b', 'c') AS a, regexp_replace('aXa', 'x', '-', 'ig') AS b, regexp_full_match('AB', 'ab', 'i') AS c

-- @ fx_regexp_extract_all_group
SELECT regexp_extract_all('a1b2', '([a-z])(\d)', 2) AS a

-- @ fx_regexp_replace_g_default
SELECT regexp_replace('aaa', 'a', 'b') AS a

-- @ fx_string_split_regex
SELECT string_split_regex('a1b2c', '\d') AS a, regexp_split_to_array('a1b2c', '\d') AS b, str_split_regex('aXb', 'x', 'i') AS c

-- @ fx_trunc_col
SELECT trunc(1.23456, 2) AS a, trunc(123.4, -1) AS b

-- @ fx_to_hex
SELECT to_hex(255) AS a, hex('a') AS b, to_hex('ab') AS c

-- @ fx_unicode_empty
SELECT unicode('') AS a, unicode('A') AS b

-- @ fx_right_neg
SELECT right('hello', -2) AS a, left('hello', -2) AS b

-- @ fx_strpos3
SELECT strpos('hello', 'l') AS a

-- @ fx_rpad2
SELECT rpad('x', 3, '*') AS a

-- @ fx_group_concat
SELECT group_concat(x) AS a FROM (VALUES ('a'), ('b')) t(x)

-- @ fx_listagg
SELECT listagg(x) AS a FROM (VALUES ('a'), ('b')) t(x)

-- @ fx_to_timestamp2
SELECT to_timestamp(1704067200) AS a

-- @ fx_generate_series1
SELECT generate_series(3) AS a, range(3) AS b

-- @ fx_log_two_args
SELECT log(2, 8) AS a, log(8) AS b

-- @ fx_editdist
SELECT editdist3('kitten', 'sitting') AS a

-- @ fx_array_concat3
SELECT array_concat([1], [2], [3]) AS a, list_concat([1], [2], [3]) AS b

-- @ fx_array_has_all
SELECT array_has_all([1, 2, NULL], [NULL]) AS a, list_has_all([1, 2], []) AS b, list_has_any([NULL], [NULL]) AS c

-- @ fx_struct_pack_col
SELECT struct_pack(model) AS s FROM devices ORDER BY id LIMIT 1

-- @ fx_list_value_empty
SELECT list_value() AS a

-- @ fx_var_samp
SELECT var_samp(x) AS a FROM (VALUES (1), (2), (4)) t(x)

-- @ fx_char_length
SELECT char_length('héllo') AS a, len('héllo') AS b

-- @ fx_overlay
SELECT overlay('hello', 'XX', 2) AS a, overlay('hello', 'XX', 2, 1) AS b

-- @ fx_filter_func
SELECT filter([1, 2, 3], lambda x: x > 1) AS a, array_filter([1, 2], lambda x: x > 1) AS b

-- @ fx_list_has
SELECT list_has([1, NULL], NULL) AS a, array_contains([1, 2], 2) AS b, list_contains([1], NULL) AS c

-- @ fx_if_null
SELECT if(NULL, 1, 2) AS a

-- @ fx_count_if_null
SELECT count_if(x) AS a, countif(x) AS b FROM (VALUES (NULL::BOOLEAN), (NULL)) t(x)

-- @ fx_count_if_empty
SELECT count_if(x > 1) AS a FROM (SELECT 1 AS x WHERE false)

-- @ fx_string_agg_null
SELECT string_agg(x) AS a, string_agg(x, NULL) AS b FROM (VALUES ('a'), ('b')) t(x)

-- @ fx_array_sort
SELECT array_sort(['b', 'a']) AS a, list_sort(['b', 'a']) AS b

-- @ fx_ceiling
SELECT ceiling(1.2) AS a, ceil(1.2::DOUBLE) AS b

-- @ fx_mod_neg
SELECT mod(-7, 2) AS a, mod(7.5, 2) AS b

-- @ z_float_prec
SELECT 1.5::FLOAT(53) AS a, 1.5::FLOAT(10) AS b, typeof(1.5::FLOAT(53)) t

-- @ z_ts_precision
SELECT '2024-01-01 10:00:00.123456'::TIMESTAMP(3) AS a

-- @ z_dot_exp
SELECT .1e2 AS a, typeof(.1e2) AS t, 1.e2 AS b

-- @ z_exp_forms
SELECT 1e-3 a, 1E+3 b, 2.5e0 c, typeof(1e-3) t

-- @ z_big_exp
SELECT 1e308 * 10 a

-- @ z_zero_x_is_an_alias
SELECT 0x1F, 0b101, 1 + 0xff

-- @ z_ts_tz_literal
SELECT TIMESTAMP WITH TIME ZONE '2024-01-01 10:00:00+02' AS a

-- @ z_time_tz_literal
SELECT TIMETZ '10:00:00+02' AS a

-- @ z_bool_int
SELECT TRUE::INT a, NOT NOT TRUE b

-- @ z_unicode_escape
SELECT E'\u00e9' AS a, E'\U0001F600' AS b

-- @ z_select_all
SELECT ALL outcome FROM connection_events ORDER BY id LIMIT 2

-- @ z_distinct_star
SELECT DISTINCT * FROM (VALUES (1), (1), (2)) t(x) ORDER BY x

-- @ z_lateral_unnest
SELECT t.id, u.x FROM (SELECT 1 AS id, [1, 2] AS l) t, LATERAL unnest(t.l) u(x) ORDER BY u.x

-- @ z_cross_lateral_star
SELECT * FROM (SELECT 1 AS a) t1 CROSS JOIN LATERAL (SELECT t1.a + 1 AS b)

-- @ z_eq_null
SELECT NULL = NULL AS a, 1 = NULL AS b

-- @ z_any_list
SELECT count(*) FROM users WHERE country = ANY(['US', 'DE'])

-- @ z_collate_desc
SELECT x FROM (VALUES ('b'), ('A'), ('a')) t(x) ORDER BY x COLLATE NOCASE DESC, x

-- @ z_sample_paren_pct
SELECT id FROM connection_events TABLESAMPLE (10 PERCENT) REPEATABLE (3)

-- @ z_sample_bern_pct_rep
SELECT id FROM connection_events TABLESAMPLE BERNOULLI (10 PERCENT) REPEATABLE (3)

-- @ z_sample_system_pct_rep
SELECT id FROM connection_events TABLESAMPLE SYSTEM (10 PERCENT) REPEATABLE (3)

-- @ z_sample_alias_after
SELECT e.id FROM connection_events AS e TABLESAMPLE SYSTEM (10 ROWS) REPEATABLE (4)

-- @ z_sample_reservoir_pct_rep
SELECT id FROM connection_events TABLESAMPLE RESERVOIR (2 PERCENT) REPEATABLE (8)

-- @ z_sample_using_system_rows_rep
SELECT id FROM connection_events USING SAMPLE SYSTEM (12 ROWS) REPEATABLE (9)

-- @ z_sample_using_reservoir_rows_rep
SELECT id FROM connection_events USING SAMPLE RESERVOIR (12 ROWS) REPEATABLE (9)

-- @ z_sample_using_bern_rep
SELECT id FROM connection_events USING SAMPLE BERNOULLI (3 PERCENT) REPEATABLE (9)

-- @ z_sample_using_rows_seed_tuple
SELECT id FROM connection_events USING SAMPLE 12 ROWS (reservoir, 9)

-- @ z_sample_using_pct_system_tuple
SELECT id FROM connection_events USING SAMPLE 20% (system, 9)

-- @ z_interval_string_sum
SELECT INTERVAL '1 day' + INTERVAL '2 hours' AS a, DATE '2024-01-01' + INTERVAL '36 hours' AS b

-- @ z_interval_case_str
SELECT INTERVAL '3 DAYS' AS a, INTERVAL '1 Month' AS b

-- @ z_interval_mixed_units
SELECT INTERVAL '1 year 1 day' AS a, INTERVAL '1 hour 1 second' AS b

-- @ z_interval_string_ms
SELECT INTERVAL '1.5 seconds' AS a, INTERVAL '250 ms' AS b

-- @ z_interval_time_string
SELECT INTERVAL '10:00' AS a, INTERVAL '-10:00' AS b, INTERVAL '1:02:03.5' AS c

-- @ z_interval_neg_string
SELECT INTERVAL '-3 days' AS a, INTERVAL '-1.5 hours' AS b

-- @ z_interval_week_str
SELECT INTERVAL '2 weeks' AS a, INTERVAL '1 millennium' AS b

-- @ z_interval_multi_ago
SELECT INTERVAL '1 year 2 months ago' AS a

-- @ z_interval_cast_string
SELECT CAST('1 day ago' AS INTERVAL) AS a, '3 hrs'::INTERVAL AS b

-- @ z_json_arrow_num_str
SELECT '[10, 20]'::JSON -> 0 AS a, '[10, 20]'::JSON ->> '$[1]' AS b, '{"a":[1,2]}'::JSON -> '$.a[#-1]' AS c

-- @ z_json_extract_list
SELECT json_extract('{"a":1,"b":2}', ['a', 'b']) AS a, json_extract_string('{"a":1}', ['$.a']) AS b

-- @ z_json_exists
SELECT json_exists('{"a.b": 1}', 'a.b') AS a, json_value('{"a b": 1}', 'a b') AS b

-- @ z_json_wildcard
SELECT '{"a": [1, 2]}'::JSON -> '$.a[*]' AS a, '{"a": {"b": 1, "c": 2}}'::JSON -> '$.a.*' AS b

-- @ z_json_recursive
SELECT '{"a": {"b": 1}}'::JSON -> '$..b' AS a

-- @ z_json_quoted_path
SELECT '{"a b": {"c": 1}}'::JSON ->> '$."a b".c' AS a

-- @ z_struct_star_exclude
SELECT s.* EXCLUDE (b) FROM (SELECT {'a': 1, 'b': 2, 'c': 3} AS s)

-- @ z_columns_exclude_replace
SELECT COLUMNS(* EXCLUDE (id) REPLACE (upper(model) AS model)) FROM devices ORDER BY id LIMIT 1

-- @ z_columns_lambda_arith
SELECT max(COLUMNS(lambda c: c IN ('latency_ms', 'rssi_dbm'))) FROM connection_events

-- @ z_columns_regex_star
SELECT COLUMNS('^(id|model)$') FROM devices ORDER BY id LIMIT 2

-- @ z_star_columns_sum
SELECT list_value(*COLUMNS('_at$')) AS l FROM devices ORDER BY id LIMIT 1

-- @ z_list_comp_nested
SELECT [[y * 10 FOR y IN x] FOR x IN [[1, 2], [3]]] AS a

-- @ z_list_comp_struct
SELECT [s.a FOR s IN [{'a': 1}, {'a': 2}] IF s.a > 1] AS a

-- @ z_lambda_struct_field
SELECT list_filter([{'n': 1}, {'n': 5}], lambda s: s.n > 2) AS a

-- @ z_map_bracket_list
SELECT MAP {'a': [1, 2]}['a'][2] AS a

-- @ z_list_slice_call
SELECT array_agg(x ORDER BY x)[1:2] AS a, list(x ORDER BY x DESC)[1] AS b FROM (VALUES (3), (1), (2)) t(x)

-- @ z_array_call_slice
SELECT array_value(1, 2, 3)[2:3] AS a, list_value(1, 2, 3)[-1] AS b

-- @ z_array_ctor_index
SELECT ARRAY[1, 2, 3][2] AS a

-- @ z_ignore_nulls_variants
SELECT id, first_value(error_code IGNORE NULLS) OVER w a, last_value(error_code IGNORE NULLS) OVER w b, nth_value(error_code, 2 IGNORE NULLS) OVER w c, lead(error_code IGNORE NULLS) OVER (ORDER BY id) d FROM connection_events WINDOW w AS (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) ORDER BY id LIMIT 5

-- @ z_respect_nulls
SELECT id, lag(error_code RESPECT NULLS) OVER (ORDER BY id) a FROM connection_events ORDER BY id LIMIT 5

-- @ z_any_value_ignore
SELECT any_value(error_code) a FROM connection_events

-- @ z_distinct_multi_arg
SELECT string_agg(DISTINCT outcome, '|' ORDER BY outcome) a, count(DISTINCT outcome) b FROM connection_events

-- @ z_within_group_all
SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY latency_ms DESC) a, percentile_disc([0.1, 0.9]) WITHIN GROUP (ORDER BY latency_ms) b, mode() WITHIN GROUP (ORDER BY outcome DESC) c FROM connection_events

-- @ z_agg_order_desc
SELECT first(outcome ORDER BY id DESC) a, arg_max(outcome, id) b, list(DISTINCT outcome ORDER BY outcome DESC) c FROM connection_events

-- @ z_agg_filter_order
SELECT list(id ORDER BY id DESC) FILTER (WHERE id < 5) a FROM connection_events

-- @ z_func_case
SELECT LOWER('A') a, Lower('B') b, "lower"('C') c

-- @ z_qualified_func
SELECT main.lower('A') a

-- @ z_func_keywords
SELECT left('abc', 1) a, right('abc', 1) b, replace('abc', 'b', 'x') c, repeat('a', 2) d, filter([1, 2], lambda x: x > 1) e, if(true, 1, 0) f, contains('abc', 'b') g, "any_value"(1) h

-- @ z_if_keyword
SELECT IF(1 > 0, 'y', 'n') a, IFNULL(NULL, 1) b, NULLIF(1, 1) c

-- @ z_row_cmp_cols
SELECT count(*) FROM connection_events WHERE ROW(latency_ms, id) < ROW(100, 50)

-- @ z_row_field_access
SELECT ROW(1, 'a') < ROW(1, 'b') a, ROW(1, 2) <= ROW(1, 2) b

-- @ z_values_union_order
VALUES (2, 'b'), (1, 'a') UNION ALL VALUES (3, 'c') ORDER BY 1

-- @ z_values_limit
VALUES (1), (2), (3) LIMIT 2

-- @ z_values_in_cte
WITH v(x) AS (VALUES (1), (2)) SELECT sum(x) FROM v

-- @ z_values_subquery_check
VALUES ((SELECT count(*) FROM users))

-- @ z_positional_mixed
SELECT #2, a FROM (SELECT 1 AS a, 2 AS b)

-- @ z_positional_expr
SELECT #1 + 1 FROM (SELECT 1 AS a)

-- @ z_date_funcs_verbatim
SELECT date_add(DATE '2024-02-28', 2) a, date_add(DATE '2024-01-31', INTERVAL 1 MONTH) b, date_sub('month', DATE '2024-01-31', DATE '2024-03-01') c, datediff('week', DATE '2024-01-01', DATE '2024-02-01') d, datepart('dow', DATE '2024-03-03') e

-- @ z_date_trunc_col_unit
SELECT p, date_trunc(p, TIMESTAMP '2024-05-17 10:11') AS d, date_diff(p, DATE '2024-01-01', DATE '2024-03-01') AS n, date_part(p, DATE '2024-05-17') AS e FROM (VALUES ('day'), ('month'), ('year')) t(p) ORDER BY p

-- @ z_jaro
SELECT jaro_winkler_similarity('Martha', 'marhta') a, jaro_winkler_similarity('Martha', 'marhta', 0.9) b, jaro_similarity('abc', 'ABC') c

-- @ z_reduce_init
SELECT reduce([1, 2, 3], lambda acc, x: acc * 10 + x, 9) a, list_reduce(['x', 'y'], lambda a, b: b || a, '.') b

-- @ z_log_forms
SELECT log(8) a, log(2, 8) b, log10(1000) c, log2(8) d, ln(exp(2)) e

-- @ z_str_position
SELECT position('b' IN 'abc') a, instr('abc', 'c') b, strpos('abc', 'a') c

-- @ z_regexp_flags_const
SELECT regexp_extract('AB', 'b', 0, 'i') a, regexp_extract_all('AbAB', 'b', 0, 'i') b, regexp_replace('AbAB', 'b', '-', 'gi') c, regexp_matches('A', 'a', 'i') d

-- @ z_to_hex_forms
SELECT to_hex(255) a, hex(255) b, unhex('41') c, from_hex('41') d, to_binary(5) e

-- @ z_list_sort_forms
SELECT list_sort([3, NULL, 1], 'DESC') a, list_sort([3, NULL, 1], 'DESC', 'NULLS FIRST') b, array_sort([2, 1]) c, list_reverse_sort([1, 2]) d

-- @ z_string_agg_forms
SELECT string_agg(x) a, string_agg(x, '-') b, group_concat(x, '+') c, listagg(x, ':') d, string_agg(x ORDER BY x DESC) e FROM (VALUES ('a'), ('b')) t(x)

-- @ z_quantile_forms
SELECT quantile(x, 0.5) a, quantile_cont(x, 0.5) b, quantile_disc(x, 0.5) c, median(x) d, approx_quantile(x, 0.5) e FROM (VALUES (1), (2), (3), (10)) t(x)

-- @ z_min_max_n
SELECT max(x, 2) a, min(x, 2) b, max(DISTINCT x) c FROM (VALUES (1), (2), (3), (3)) t(x)

-- @ z_struct_pack_named
SELECT struct_pack(a := 1, "B" := 'x') a, struct_insert({'a': 1}, b := 2) b, row(1, 'x') c

-- @ z_map_funcs
SELECT map(['a'], [1]) a, map_from_entries([{'k': 'a', 'v': 1}]) b, map_extract(MAP {'a': 1}, 'a') c

-- @ z_epoch_forms
SELECT to_timestamp(1.5) a, epoch_ms(1500) b, make_timestamp(1700000000000000) c, epoch(TIMESTAMP '2024-01-01') d

-- @ z_ceil_floor
SELECT ceil(1.2) a, ceiling(1.2) b, floor(-1.2) c, ceil(1.23::DECIMAL(4,2)) d, typeof(ceil(1.23::DECIMAL(4,2))) t

-- @ z_chr_char
SELECT chr(65) a

-- @ z_substring_forms
SELECT substring('hello', 2, 3) a, substring('hello' FROM 2 FOR 3) b, substr('hello', 2) c, substring('hello', -2) d

-- @ z_trim_forms
SELECT trim('  x ') a, trim('xxaxx', 'x') b, trim(BOTH 'x' FROM 'xax') c, ltrim('xxa', 'x') d

-- @ z_extract_forms
SELECT EXTRACT(dow FROM DATE '2024-03-03') a, EXTRACT(isodow FROM DATE '2024-03-03') b, EXTRACT(epoch FROM INTERVAL '1 day') c, EXTRACT(quarter FROM DATE '2024-05-01') d, EXTRACT(isoyear FROM DATE '2024-12-30') e, EXTRACT(yearweek FROM DATE '2024-12-30') f

-- @ z_overlay_forms
SELECT overlay('hello' PLACING 'XX' FROM 2) a

-- @ z_cast_forms
SELECT CAST('1' AS INT) a, TRY_CAST('x' AS INT) b, '1'::INT c, CAST(1 AS VARCHAR(3)) d

-- @ z_exists_func
SELECT EXISTS (SELECT 1) a

-- @ z_apply_forms
SELECT apply([1, 2], lambda x: x + 1) a, list_apply([1], lambda x: x) b, array_apply([2], lambda x: x * 2) c

-- @ z_unnest_forms
SELECT unnest([1, 2]) a, unnest([[1], [2, 3]], recursive := true) b

-- @ z_range_forms
SELECT range(3) a, generate_series(3) b, range(1, 3) c, generate_series(1, 3) d

-- @ z_generate_subscripts
SELECT generate_subscripts(['a', 'b'], 1) a

-- @ z_upper_lower_alias
SELECT ucase('a') a, lcase('A') b

-- @ z_greatest_mixed
SELECT greatest(1, 2.5, NULL) a, least('a', 'B') b

-- @ z_coalesce_cast
SELECT coalesce(NULL::INT, 2.5) a

-- @ z_nvl_like
SELECT ifnull(NULL, 'x') a

-- @ z_split_forms
SELECT split('a,b', ',') a, string_split('a b', ' ') b, str_split('a-b', '-') c, string_to_array('a;b', ';') d, string_split_regex('a1b', '\d') e

-- @ z_list_contains_forms
SELECT list_contains([1, 2], 2) a, list_has([1], 1) b, array_has([1], 2) c, array_contains([1], 1) d, list_has_any([1], [1]) e, list_has_all([1, 2], [1]) f, array_has_all([1], [2]) g

-- @ z_bit_aggs_forms
SELECT bit_and(x) a, bit_or(x) b, bit_xor(x) c FROM (VALUES (6), (3)) t(x)

-- @ z_pow_forms
SELECT pow(2, 3) a, power(2, 0.5) b, 2 ** 3 c, 2 ^ 3 d

-- @ z_sqrt_cbrt
SELECT sqrt(16) a, cbrt(27) b, abs(-2) c, @(-3) d

-- @ z_md5_sha
SELECT md5('a') a, sha256('a') b, sha1('a') c

-- @ z_levenshtein
SELECT levenshtein('a', 'b') a, editdist3('ab', 'ba') b, damerau_levenshtein('ab', 'ba') c

-- @ z_initcap_missing
SELECT upper(left('hello', 1)) || lower(substring('hello', 2)) a

-- @ z_normalize
SELECT nfc_normalize('é') a

-- @ z_json_funcs_forms
SELECT json('{"a": 1}') a, json_object('k', 1) b, json_array(1, 2) c, json_extract_path('{"a": {"b": 1}}', 'a') d, json_extract_path_text('{"a": "x"}', 'a') e, to_json([1]) f

-- @ z_starts_with_forms
SELECT starts_with('abc', 'a') a, 'abc' ^@ 'b' b, prefix('abc', 'ab') c

-- @ z_make_date_time
SELECT make_date(2024, 1, 2) a, make_time(1, 2, 3.5) b, make_timestamp(2024, 1, 2, 3, 4, 5) c

-- @ z_cosine
SELECT list_cosine_similarity([1.0, 0.0], [0.0, 1.0]) a, list_distance([0.0, 0.0], [3.0, 4.0]) b, list_cosine_distance([1.0, 0.0], [1.0, 0.0]) c

-- @ z_nested_agg_window
SELECT outcome, sum(count(*)) OVER () AS total FROM connection_events GROUP BY outcome ORDER BY outcome

-- @ z_window_in_order
SELECT id FROM connection_events ORDER BY row_number() OVER (ORDER BY id DESC) LIMIT 3

-- @ z_filter_no_where_kw
SELECT count(*) FILTER (outcome = 'ok') a FROM connection_events

