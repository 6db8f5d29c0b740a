# Legitimate analyst queries over the test mirror (tests/metrics/world.py), sent through
# POST /api/sql by tests/server/test_sql_corpus.py. Each case starts with a line
#   -- @ <name> [<expectation>]
# and runs to the next case. Expectations:
#   (none)            200, and columns and rows as DuckDB gives them on the mirror file
#   json <value>      200, and exactly this JSON for {"columns", "types", "rows"}
#   rows <n>          200 with n rows (truncated when more are left)
#   refused <phrase>  400 whose message contains the phrase

-- @ cte_basic
WITH per AS (SELECT country, count(*) AS n FROM users GROUP BY country) SELECT * FROM per ORDER BY n DESC, country NULLS LAST

-- @ cte_two
WITH d AS (SELECT user_id, count(*) n FROM devices GROUP BY 1), u AS (SELECT id, country FROM users) SELECT u.country, sum(d.n) AS devices FROM u JOIN d ON d.user_id = u.id GROUP BY ALL ORDER BY ALL

-- @ cte_recursive_dates
WITH RECURSIVE days(d) AS (SELECT DATE '2024-01-01' UNION ALL SELECT d + 1 FROM days WHERE d < DATE '2024-01-31') SELECT d, (SELECT count(*) FROM connection_events e WHERE e.ts::DATE = days.d) AS n FROM days ORDER BY d

-- @ cte_recursive_counter
WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 100) SELECT sum(n) AS s FROM t

-- @ cte_materialized
WITH m AS MATERIALIZED (SELECT outcome, count(*) AS n FROM connection_events GROUP BY outcome) SELECT * FROM m ORDER BY outcome

-- @ cte_shadows_nothing
WITH users_2024 AS (SELECT * FROM users WHERE created_at >= TIMESTAMP '2024-01-01') SELECT count(*) FROM users_2024

-- @ win_row_number
SELECT id, user_id, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY activated_at, id) AS rn FROM devices ORDER BY user_id, rn LIMIT 50

-- @ win_lag
SELECT d, n, n - LAG(n) OVER (ORDER BY d) AS delta FROM (SELECT ts::DATE AS d, count(*) AS n FROM connection_events GROUP BY 1) ORDER BY d LIMIT 40

-- @ win_lead_default
SELECT d, LEAD(n, 1, 0) OVER (ORDER BY d) AS next_n FROM (SELECT date_trunc('month', ts) AS d, count(*) AS n FROM connection_events GROUP BY 1) ORDER BY d

-- @ win_running_sum
SELECT m, n, sum(n) OVER (ORDER BY m ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running FROM (SELECT date_trunc('month', created_at) AS m, count(*) AS n FROM users GROUP BY 1) ORDER BY m

-- @ win_qualify
SELECT user_id, id, activated_at FROM devices QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY activated_at DESC NULLS LAST, id) = 1 ORDER BY user_id

-- @ win_named
SELECT country, created_at::DATE AS d, count(*) OVER w AS n FROM users WINDOW w AS (PARTITION BY country) ORDER BY country NULLS FIRST, d, n LIMIT 30

-- @ win_rank_dense
SELECT model, n, rank() OVER (ORDER BY n DESC) r, dense_rank() OVER (ORDER BY n DESC) dr, percent_rank() OVER (ORDER BY n) pr, ntile(3) OVER (ORDER BY n, model) t FROM (SELECT model, count(*) n FROM devices GROUP BY model) ORDER BY model

-- @ win_range_interval
SELECT d, n, sum(n) OVER (ORDER BY d RANGE BETWEEN INTERVAL 6 DAYS PRECEDING AND CURRENT ROW) AS week FROM (SELECT ts::DATE::TIMESTAMP AS d, count(*) n FROM connection_events GROUP BY 1) ORDER BY d LIMIT 20

-- @ win_first_last
SELECT DISTINCT user_id, first_value(model) OVER (PARTITION BY user_id ORDER BY id) AS f, last_value(model) OVER (PARTITION BY user_id ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS l FROM devices ORDER BY user_id LIMIT 25

-- @ rollup
SELECT category, model, count(*) AS n FROM devices GROUP BY ROLLUP (category, model) ORDER BY category NULLS LAST, model NULLS LAST

-- @ cube
SELECT outcome, error_code, count(*) AS n, grouping(outcome) AS g1, grouping(error_code) AS g2 FROM connection_events GROUP BY CUBE (outcome, error_code) ORDER BY ALL NULLS FIRST

-- @ grouping_sets
SELECT country, two_factor_enabled, count(*) n FROM users GROUP BY GROUPING SETS ((country), (two_factor_enabled), ()) ORDER BY ALL NULLS FIRST

-- @ filter_agg
SELECT date_trunc('month', ts) AS m, count(*) FILTER (WHERE outcome = 'failed') AS failed, count(*) FILTER (WHERE outcome <> 'ok') AS bad, count(*) AS total FROM connection_events GROUP BY 1 ORDER BY 1

-- @ having
SELECT user_id, count(*) AS n FROM devices GROUP BY user_id HAVING count(*) >= 10 ORDER BY n DESC, user_id

-- @ case_when
SELECT CASE WHEN latency_ms < 100 THEN 'fast' WHEN latency_ms < 500 THEN 'ok' ELSE 'slow' END AS speed, count(*) n FROM connection_events GROUP BY 1 ORDER BY 1

-- @ case_simple
SELECT CASE outcome WHEN 'ok' THEN 1 WHEN 'failed' THEN -1 ELSE 0 END AS score, count(*) FROM connection_events GROUP BY ALL ORDER BY ALL

-- @ coalesce
SELECT coalesce(country, '(unknown)') AS country, count(*) n FROM users GROUP BY 1 ORDER BY 1

-- @ ifnull_nullif
SELECT ifnull(error_code, 'none') e, nullif(outcome, 'ok') o, count(*) FROM connection_events GROUP BY ALL ORDER BY ALL NULLS FIRST

-- @ date_trunc_part
SELECT date_part('year', created_at) AS y, date_part('quarter', created_at) AS q, count(*) n FROM users GROUP BY ALL ORDER BY ALL

-- @ extract
SELECT EXTRACT(dow FROM ts) AS dow, EXTRACT(isodow FROM ts) AS isodow, count(*) FROM connection_events GROUP BY ALL ORDER BY ALL

-- @ strftime
SELECT strftime(created_at, '%Y-%m') AS ym, count(*) AS n FROM users GROUP BY 1 ORDER BY 1

-- @ strptime
SELECT strptime('2024-03-05 10:11:12', '%Y-%m-%d %H:%M:%S') AS t, strptime('05/03/2024', '%d/%m/%Y')::DATE AS d

-- @ interval_arith
SELECT count(*) FROM users WHERE created_at >= TIMESTAMP '2024-12-31' - INTERVAL 90 DAY

-- @ interval_literals
SELECT DATE '2024-01-31' + INTERVAL 1 MONTH AS a, TIMESTAMP '2024-01-01 10:00' - INTERVAL '2 hours' AS b, DATE '2024-03-01' - DATE '2024-02-01' AS days

-- @ date_diff
SELECT avg(date_diff('day', u.created_at, d.activated_at)) AS avg_days FROM devices d JOIN users u ON u.id = d.user_id WHERE d.activated_at IS NOT NULL

-- @ generate_series_dates
SELECT g.d::DATE AS d, count(u.id) AS signups FROM generate_series(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-14', INTERVAL 1 DAY) AS g(d) LEFT JOIN users u ON u.created_at = g.d GROUP BY 1 ORDER BY 1

-- @ range_numbers
SELECT r.range AS n, n * n AS sq FROM range(1, 11) AS r ORDER BY n

-- @ range_scalar_list
SELECT range(5) AS l, generate_series(1, 3) AS g

-- @ time_bucket
SELECT time_bucket(INTERVAL '1 week', ts) AS wk, count(*) AS n FROM connection_events GROUP BY 1 ORDER BY 1 LIMIT 10

-- @ week_bucket_trunc
SELECT date_trunc('week', ts) AS wk, outcome, count(*) AS n FROM connection_events GROUP BY ALL ORDER BY ALL LIMIT 30

-- @ make_date_last_day
SELECT make_date(2024, 2, 1) AS d, last_day(DATE '2024-02-10') AS ld, dayname(DATE '2024-02-10') AS dn, monthname(DATE '2024-02-10') AS mn

-- @ epoch
SELECT epoch(TIMESTAMP '2024-01-01') AS e, to_timestamp(1704067200) AS t, epoch_ms(TIMESTAMP '2024-01-01 00:00:01') AS ms

-- @ timestamptz
SELECT TIMESTAMPTZ '2024-06-01 12:00:00+02' AS tz, created_at::TIMESTAMPTZ AS ctz FROM users ORDER BY id LIMIT 3

-- @ approx_distinct
SELECT approx_count_distinct(user_id) AS approx, count(DISTINCT user_id) AS exact FROM devices

-- @ median_quantile
SELECT median(latency_ms) AS med, quantile_cont(latency_ms, 0.9) AS p90, quantile_disc(latency_ms, [0.25, 0.5, 0.75]) AS qs, percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS pc FROM connection_events

-- @ arg_max_min
SELECT user_id, arg_max(model, activated_at) AS latest_model, max_by(id, activated_at) latest_id FROM devices WHERE activated_at IS NOT NULL GROUP BY user_id ORDER BY user_id LIMIT 10

-- @ string_agg_list
SELECT category, string_agg(DISTINCT model, ', ' ORDER BY model) AS models, list(DISTINCT firmware_version ORDER BY firmware_version) AS fw FROM devices GROUP BY category ORDER BY category

-- @ histogram
SELECT histogram(outcome) AS h FROM connection_events

-- @ bool_aggs
SELECT bool_or(two_factor_enabled) a, bool_and(two_factor_enabled) b, count_if(two_factor_enabled) c FROM users

-- @ lower_upper
SELECT lower(model) AS l, upper(category) AS u, length(model) AS n FROM devices GROUP BY ALL ORDER BY ALL

-- @ regexp_matches
SELECT model, regexp_matches(model, '^Cam') AS cam, regexp_extract(firmware_version, '^(\d+)', 1) AS major FROM devices GROUP BY ALL ORDER BY ALL

-- @ regexp_replace
SELECT DISTINCT regexp_replace(firmware_version, '\.', '_', 'g') AS fw FROM devices ORDER BY 1

-- @ split_part
SELECT split_part(firmware_version, '.', 1) AS major, count(*) FROM devices GROUP BY 1 ORDER BY 1

-- @ concat_pipes
SELECT DISTINCT concat(category, '/', model) AS a, category || ':' || model AS b, concat_ws('-', category, NULL, model) AS c FROM devices ORDER BY 1

-- @ like_ilike
SELECT count(*) FILTER (WHERE model LIKE 'Cam%') a, count(*) FILTER (WHERE model ILIKE 'cam%') b, count(*) FILTER (WHERE model SIMILAR TO 'Plug.*') c, count(*) FILTER (WHERE model GLOB 'Glow*') g FROM devices

-- @ string_misc
SELECT left(model, 3) l, right(model, 2) r, replace(model, ' ', '_') rp, trim('  x  ') t, lpad('7', 3, '0') p, reverse('abc') rv, strpos(model, ' ') sp, starts_with(model, 'Cam') sw, contains(model, 'Pro') ct, model[1:3] sl FROM devices GROUP BY ALL ORDER BY ALL

-- @ unicode
SELECT 'Zürich ☃ 🙂 日本' AS s, length('🙂') AS n, upper('straße') AS u, 'tab	here' AS t, 'quote"and''apostrophe' AS q

-- @ format_printf
SELECT format('{}-{}', 'a', 42) AS f, printf('%05.1f', 3.14159) AS p

-- @ list_funcs
SELECT user_id, list(model ORDER BY model) AS models, len(list(model)) AS n, list_distinct(list(category)) AS cats FROM devices GROUP BY user_id ORDER BY n DESC, user_id LIMIT 5

-- @ unnest_list
SELECT unnest(['a', 'b', 'c']) AS v, 1 AS k

-- @ unnest_from
SELECT u.v FROM unnest([3, 1, 2]) AS u(v) ORDER BY u.v

-- @ unnest_agg
SELECT cat, count(*) FROM (SELECT unnest(list(category)) AS cat FROM devices GROUP BY user_id) GROUP BY cat ORDER BY cat

-- @ struct_access
SELECT s.a AS a, s['b'] AS b, struct_extract(s, 'a') AS c, s AS whole FROM (SELECT {'a': 1, 'b': 'two'} AS s)

-- @ struct_pack_agg
SELECT category, {'n': count(*), 'models': count(DISTINCT model)} AS info FROM devices GROUP BY category ORDER BY category

-- @ struct_row
SELECT row(1, 'a') AS r, struct_pack(x := 1, y := [1, 2]) AS sp

-- @ map
SELECT map(['a', 'b'], [1, 2]) AS m, map_keys(map(['a'], [1])) AS k, MAP {'k': 1}['k'] AS v

-- @ casts
SELECT created_at::DATE AS d, CAST(birth_year AS VARCHAR) AS s, TRY_CAST('x' AS INTEGER) AS bad, TRY_CAST('42' AS INTEGER) AS good, '2024-01-05'::DATE AS lit, 3::DOUBLE / 2 AS half FROM users ORDER BY id LIMIT 3

-- @ cast_bool_int
SELECT two_factor_enabled::INTEGER AS i, count(*) FROM users GROUP BY 1 ORDER BY 1

-- @ union_all
SELECT 'users' AS t, count(*) AS n FROM users UNION ALL SELECT 'devices', count(*) FROM devices UNION ALL SELECT 'events', count(*) FROM connection_events ORDER BY t

-- @ union_distinct
SELECT user_id FROM devices UNION SELECT user_id FROM api_tokens ORDER BY 1 LIMIT 20

-- @ intersect
SELECT user_id FROM devices INTERSECT SELECT user_id FROM integrations ORDER BY 1

-- @ except
SELECT id FROM users EXCEPT SELECT user_id FROM devices ORDER BY 1

-- @ union_by_name
SELECT 1 AS a, 2 AS b UNION ALL BY NAME SELECT 3 AS b, 4 AS a

-- @ in_subquery
SELECT count(*) FROM users WHERE id IN (SELECT user_id FROM integrations)

-- @ exists
SELECT count(*) FROM users u WHERE EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id AND d.category = 'lock')

-- @ not_exists
SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id)

-- @ scalar_subquery
SELECT country, count(*) AS n, round(100.0 * count(*) / (SELECT count(*) FROM users), 2) AS pct FROM users GROUP BY country ORDER BY n DESC, country

-- @ lateral
SELECT u.id, top.model FROM users u, LATERAL (SELECT model FROM devices d WHERE d.user_id = u.id ORDER BY d.id LIMIT 1) top ORDER BY u.id LIMIT 20

-- @ inner_join
SELECT u.country, d.category, count(*) AS n FROM users u INNER JOIN devices d ON d.user_id = u.id GROUP BY ALL ORDER BY ALL NULLS FIRST

-- @ left_join
SELECT u.id, count(d.id) AS devices FROM users u LEFT JOIN devices d ON d.user_id = u.id GROUP BY u.id ORDER BY devices, u.id LIMIT 20

-- @ right_full_join
SELECT count(*) AS n, count(i.id) AS linked, count(t.id) AS tokens FROM integrations i FULL OUTER JOIN api_tokens t ON t.user_id = i.user_id

-- @ right_join
SELECT count(*) FROM devices d RIGHT JOIN users u ON u.id = d.user_id

-- @ cross_join
SELECT o.outcome, c.category FROM (SELECT DISTINCT outcome FROM connection_events) o CROSS JOIN (SELECT DISTINCT category FROM devices) c ORDER BY ALL

-- @ using_join
SELECT count(*) FROM (SELECT id AS user_id FROM users) u JOIN devices USING (user_id)

-- @ semi_anti_join
SELECT (SELECT count(*) FROM users SEMI JOIN devices ON devices.user_id = users.id) AS semi, (SELECT count(*) FROM users ANTI JOIN devices ON devices.user_id = users.id) AS anti

-- @ asof_join
SELECT count(*) FROM connection_events e ASOF JOIN devices d ON d.id = e.device_id AND e.ts >= d.activated_at

-- @ self_join
SELECT count(*) FROM devices a JOIN devices b ON a.user_id = b.user_id AND a.id < b.id

-- @ three_way
SELECT u.country, e.outcome, count(*) n FROM connection_events e JOIN devices d ON d.id = e.device_id JOIN users u ON u.id = d.user_id GROUP BY ALL ORDER BY ALL NULLS FIRST

-- @ shares_join
SELECT count(DISTINCT s.guest_email) AS guests, count(*) AS shares FROM device_shares s JOIN devices d ON d.id = s.device_id AND d.user_id = s.owner_user_id

-- @ natural_join
SELECT count(*) FROM (SELECT id AS device_id FROM devices) NATURAL JOIN connection_events

-- @ limit_offset
SELECT id FROM connection_events ORDER BY id LIMIT 5 OFFSET 100

-- @ distinct_on
SELECT DISTINCT ON (category) category, model, id FROM devices ORDER BY category, id

-- @ order_nulls
SELECT country FROM users GROUP BY country ORDER BY country DESC NULLS FIRST

-- @ order_by_alias_expr
SELECT model, count(*) AS n FROM devices GROUP BY model ORDER BY n DESC, model LIMIT 3

-- @ pivot_in
SELECT * FROM (SELECT category, outcome FROM connection_events e JOIN devices d ON d.id = e.device_id) PIVOT (count(*) FOR outcome IN ('ok', 'failed', 'timeout')) ORDER BY category

-- @ unpivot_sql
SELECT * FROM (SELECT 'x' AS k, 1 AS a, 2 AS b) UNPIVOT (val FOR col IN (a, b)) ORDER BY col

-- @ comments
-- leading comment
SELECT /* inline */ count(*) AS n -- trailing
FROM users /* block
 over lines */

-- @ semicolon
SELECT count(*) FROM users;

-- @ semicolon_ws
SELECT count(*) FROM users ;  


-- @ mixed_case
SeLeCt CoUnT(*) aS N fRoM UsErS wHeRe CoUnTrY = 'US'

-- @ quoted_ident
SELECT "country" AS "Country Name", count(*) AS "n rows" FROM "users" GROUP BY "country" ORDER BY "Country Name" NULLS LAST

-- @ zero_rows
SELECT * FROM users WHERE 1 = 0

-- @ zero_rows_agg
SELECT country, count(*) FROM users WHERE country = 'nowhere' GROUP BY country

-- @ nulls
SELECT NULL AS a, NULL::INTEGER AS b, error_code, revoked_at FROM connection_events, api_tokens WHERE connection_events.id < 3 AND api_tokens.id < 3 ORDER BY connection_events.id, api_tokens.id

-- @ big_ints
SELECT id, user_id, id::VARCHAR AS s FROM devices ORDER BY id LIMIT 5

-- @ big_literals
SELECT 9007199254740993 AS a, -9223372036854775808 AS b, 170141183460469231731687303715884105727::HUGEINT AS c, 18446744073709551615::UBIGINT AS d, 9007199254740991 AS safe

-- @ decimals
SELECT 1.5 * 2 AS a, 0.1::DECIMAL(18, 3) + 0.2 AS b, 12345678901234567.891::DECIMAL(38, 3) AS c, round(avg(latency_ms), 2) AS d, sum(0.01) AS e FROM connection_events

-- @ nan_inf
SELECT 'nan'::DOUBLE AS n, 'inf'::DOUBLE AS i, '-inf'::DOUBLE AS m, 1 / 0 AS z, ln(0) AS l

-- @ booleans
SELECT true AS t, false AS f, NULL::BOOLEAN AS n, 1 < 2 AS c

-- @ blobs
SELECT '\xAA\x00'::BLOB AS b, encode('héllo') AS e, octet_length(encode('hé')) AS n, md5('x') AS h

-- @ uuid_hash
SELECT hash('x') AS h, md5_number('x') AS m

-- @ ten_thousand
SELECT id, device_id, ts, outcome FROM connection_events ORDER BY id LIMIT 10000

-- @ star_exclude
SELECT * EXCLUDE (_sm_entered_at) FROM users ORDER BY id LIMIT 5

-- @ star_replace
SELECT * REPLACE (lower(country) AS country) FROM users ORDER BY id LIMIT 5

-- @ columns_expr
SELECT max(COLUMNS('.*_at')) FROM devices

-- @ from_first
FROM users SELECT country, count(*) GROUP BY ALL ORDER BY ALL

-- @ from_only
FROM integrations ORDER BY id LIMIT 3

-- @ values
SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(n, s) ORDER BY n

-- @ is_distinct
SELECT count(*) FROM connection_events WHERE error_code IS DISTINCT FROM 'E42'

-- @ between_in
SELECT count(*) FROM connection_events WHERE latency_ms BETWEEN 100 AND 200 AND outcome IN ('ok', 'timeout')

-- @ sm_entered
SELECT max(_sm_entered_at) FROM users

-- @ json_funcs
SELECT json_extract('{"a": {"b": 5}}', '$.a.b') AS j, '{"a": 1}'::JSON ->> 'a' AS k, to_json({'x': 1}) AS t

-- @ current_date
SELECT current_date IS NOT NULL AS ok, now() IS NOT NULL AS ok2, today() > DATE '2000-01-01' AS ok3

-- @ greatest_least
SELECT greatest(1, 5, 3) g, least('b', 'a') l, abs(-3) a, round(2.567, 1) r, floor(2.5) f, ceil(2.1) c, power(2, 10) p, sqrt(16) s, 7 // 2 AS idiv, 7 % 3 AS m

-- @ a1
SELECT * FROM users ORDER BY 1 DESC LIMIT 10 OFFSET 5

-- @ a2
SELECT count(DISTINCT (country, two_factor_enabled)) FROM users

-- @ a3
SELECT min(COLUMNS(*)) FROM connection_events

-- @ a4
SELECT strftime(ts, '%A') AS wd, count(*) FROM connection_events GROUP BY 1 ORDER BY 1

-- @ a5
SELECT date_sub('day', DATE '2024-01-01', DATE '2024-03-01') a, datediff('month', DATE '2024-01-01', DATE '2024-03-01') b

-- @ a6
SELECT array_agg(DISTINCT outcome ORDER BY outcome) AS a, list_aggregate([1,2,3], 'sum') AS s FROM connection_events

-- @ a7
SELECT unnest(string_split('a,b,c', ',')) AS p, regexp_split_to_array('a1b2c', '\d') AS r

-- @ a8
SELECT count(*) FROM devices WHERE model ~ '^Cam'

-- @ a9
SELECT 'abc' ^@ 'ab' AS sw, [1,2,3][-1] AS last, list_slice([1,2,3,4], 2, 3) AS sl, array_to_string(['a','b'], '-') AS j

-- @ a10
SELECT 'x'::VARCHAR(10) a, CAST(latency_ms AS DECIMAL(10,2)) / 3 AS b FROM connection_events ORDER BY id LIMIT 3

-- @ a12
SELECT count(*) FROM users WHERE country NOT IN ('US', 'DE') OR country IS NULL

-- @ a14
SELECT 2 = ANY([1, 2]) AS a

-- @ a15
SELECT generate_subscripts([4, 5, 6], 1) AS i

-- @ a16
SELECT category, count(*) AS n FROM devices GROUP BY category HAVING n > 100 ORDER BY n

-- @ a17
SELECT DISTINCT category FROM devices ORDER BY category DESC

-- @ a18
SELECT outcome, avg(latency_ms)::INTEGER AS a FROM connection_events GROUP BY outcome ORDER BY a

-- @ a19
SELECT e.* FROM connection_events e ORDER BY e.id LIMIT 2

-- @ a20
SELECT COUNT(*) AS "count", "outcome" FROM "connection_events" GROUP BY "outcome" ORDER BY "outcome"

-- @ a21
select u.country as c, count(*) filter (where d.category = 'camera') as cams from users as u left outer join devices as d on u.id = d.user_id group by 1 order by 2 desc, 1 limit 5

-- @ a22
SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p FROM connection_events

-- @ a23
SELECT quantile_cont(latency_ms, [0.1, 0.9]) AS q FROM connection_events

-- @ a25
SELECT d.model, e.outcome, count(*) FROM connection_events e, devices d WHERE d.id = e.device_id GROUP BY ROLLUP (d.model, e.outcome) ORDER BY ALL NULLS LAST

-- @ a26
SELECT list_value(1, 2) AS l, list_concat([1], [2]) AS c, flatten([[1], [2, 3]]) AS f, list_sort([3, 1, 2]) AS s, list_reverse_sort([3,1,2]) r

-- @ a27
SELECT ts::DATE AS d FROM connection_events GROUP BY d ORDER BY d LIMIT 3

-- @ a28
SELECT date_trunc('day', now()) - INTERVAL 30 DAY < now() AS ok

-- @ a29
SELECT * FROM generate_series(1, 5) t(i) WHERE i % 2 = 1

-- @ a30
SELECT * FROM range(DATE '2024-01-01', DATE '2024-01-05', INTERVAL 1 DAY)

-- @ a31
SELECT x FROM (SELECT unnest(range(3)) AS x) ORDER BY x

-- @ a32
SELECT count(*) FROM devices WHERE activated_at::DATE BETWEEN '2024-01-01' AND '2024-06-30'

-- @ a33
SELECT to_json(list(struct_pack(m := model))) AS j FROM (SELECT DISTINCT model FROM devices ORDER BY model)

-- @ a34
SELECT CASE WHEN country IN ('US','CA') THEN 'NA' WHEN country IS NULL THEN NULL ELSE 'other' END AS region, count(*) FROM users GROUP BY ALL ORDER BY ALL NULLS LAST

-- @ a35
SELECT (SELECT max(ts) FROM connection_events) - (SELECT min(ts) FROM connection_events) AS span

-- @ a36
SELECT avg(latency_ms) FILTER (outcome = 'ok') AS a FROM connection_events

-- @ a37
SELECT u.id, d.n FROM users u JOIN LATERAL (SELECT count(*) AS n FROM devices WHERE user_id = u.id) d ON true ORDER BY d.n DESC, u.id LIMIT 5

-- @ a38
SELECT *, row_number() OVER () AS rn FROM (VALUES ('a'), ('b')) t(x)

-- @ a39
SELECT sum(latency_ms) OVER (PARTITION BY outcome ORDER BY id ROWS 2 PRECEDING) FROM connection_events ORDER BY id LIMIT 5

-- @ a40
SELECT count(*) FROM connection_events e WHERE e.device_id IN (SELECT id FROM devices WHERE category = 'camera') AND NOT e.outcome = 'ok'

-- @ a41
WITH a AS (SELECT 1 AS x), b AS (SELECT x + 1 AS y FROM a) SELECT * FROM a, b

-- @ a43
SELECT sum(id) AS s, sum(user_id) AS s2 FROM devices

-- @ a44
SELECT bit_count(7) b, xor(5, 3) x, 5 & 3 a, 5 | 3 o, 1 << 4 sh

-- @ a45
SELECT nullif(0, 0) IS NULL AS a, 10 / nullif(0, 0) AS b

-- @ a46
SELECT typeof(id) t, typeof(ts) t2 FROM connection_events LIMIT 1

-- @ a47
SELECT min(ts)::DATE, max(ts)::DATE FROM connection_events

-- @ a48
SELECT devices.model FROM devices GROUP BY devices.model ORDER BY devices.model

-- @ a50
SELECT fsum(latency_ms) f, favg(latency_ms) fa, geomean(latency_ms) g, product(2) p FROM connection_events

-- @ lambda_functions
SELECT list_transform([1, 2, 3], lambda x: x * 10) AS t, list_filter([1, 2, 3, 4], lambda x: x % 2 = 0) AS f, [x * 2 FOR x IN [1, 2, 3] IF x > 1] AS comp, list_sum([1, 2, 3]) AS s

-- @ quantile_list
SELECT quantile_disc(latency_ms, [0.25, 0.5, 0.75]) AS qs FROM connection_events

-- @ any_subquery
SELECT count(*) FROM connection_events WHERE latency_ms > ANY (SELECT latency_ms FROM connection_events WHERE outcome = 'failed' ORDER BY id LIMIT 3)

-- @ positional_join
SELECT * FROM (SELECT 1 AS a UNION ALL SELECT 2) POSITIONAL JOIN (SELECT 'x' AS b)

-- @ sample_rows
SELECT count(*) AS n FROM (SELECT * FROM connection_events USING SAMPLE 100 ROWS)

-- @ pivot_statement
PIVOT devices ON category IN ('camera', 'plug') USING count(*) GROUP BY model

-- @ pivot_in_subquery
SELECT * FROM (PIVOT devices ON category IN ('camera', 'plug') USING count(*) AS n GROUP BY model) ORDER BY model

-- @ unpivot_statement
UNPIVOT (SELECT 'x' AS k, 1 AS a, 2 AS b) ON a, b INTO NAME col VALUE val

-- @ unpivot_in_subquery
SELECT * FROM (UNPIVOT (SELECT 'x' AS k, 1 AS a, 2 AS b) ON a, b INTO NAME col VALUE val) ORDER BY col

-- @ unaliased_names
SELECT list(outcome ORDER BY id)[1:2], date_trunc('month', min(ts)), count(*), max(ts)::DATE, string_agg(DISTINCT outcome, ',' ORDER BY outcome), len([1]), ts::DATE FROM connection_events GROUP BY ALL ORDER BY ALL LIMIT 3

-- @ exact_ints json {"columns": ["safe", "big", "neg", "huge"], "types": ["BIGINT", "BIGINT", "BIGINT", "HUGEINT"], "rows": [[9007199254740991, "9007199254740993", "-9223372036854775808", "170141183460469231731687303715884105727"]]}
SELECT 9007199254740991 AS safe, 9007199254740993 AS big, -9223372036854775808 AS neg, 170141183460469231731687303715884105727::HUGEINT AS huge

-- @ exact_decimals json {"columns": ["a", "b", "c", "d"], "types": ["DECIMAL(12,1)", "DECIMAL(19,3)", "DECIMAL(38,3)", "DECIMAL(38,0)"], "rows": [[3.0, 0.3, "12345678901234567.891", 7]]}
SELECT 1.5 * 2 AS a, 0.1::DECIMAL(18, 3) + 0.2 AS b, 12345678901234567.891::DECIMAL(38, 3) AS c, 7::DECIMAL(38, 0) AS d

-- @ non_finite json {"columns": ["n", "i", "m"], "types": ["DOUBLE", "DOUBLE", "DOUBLE"], "rows": [["NaN", "Infinity", "-Infinity"]]}
SELECT 'nan'::DOUBLE AS n, 'inf'::DOUBLE AS i, '-inf'::DOUBLE AS m

-- @ intervals json {"columns": ["age", "mixed", "hours", "zero", "nested"], "types": ["INTERVAL", "INTERVAL", "INTERVAL", "INTERVAL", "MAP(VARCHAR, INTERVAL[])"], "rows": [["P1Y2M", "P1M-1D", "PT1H30M0.5S", "PT0S", {"k": ["P3D"]}]]}
SELECT age(TIMESTAMP '2024-03-01', TIMESTAMP '2023-01-01') AS age, INTERVAL 1 MONTH - INTERVAL 1 DAY AS mixed, INTERVAL '90 minutes 0.5 seconds' AS hours, INTERVAL 0 DAY AS zero, MAP {'k': [INTERVAL 3 DAY]} AS nested

-- @ temporal json {"columns": ["d", "t", "tz", "tm"], "types": ["DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIME"], "rows": [["2024-02-29", "2024-02-29T13:14:15.123456", "2024-06-01T10:00:00+00:00", "23:59:59"]]}
SELECT DATE '2024-02-29' AS d, TIMESTAMP '2024-02-29 13:14:15.123456' AS t, TIMESTAMPTZ '2024-06-01 12:00:00+02' AS tz, TIME '23:59:59' AS tm

-- @ blob_unicode_bool json {"columns": ["b", "u", "t", "n"], "types": ["BLOB", "VARCHAR", "BOOLEAN", "BOOLEAN"], "rows": [["qgD/", "Zürich ☃ 🙂 \"q\"", true, null]]}
SELECT '\xAA\x00\xFF'::BLOB AS b, 'Zürich ☃ 🙂 "q"' AS u, 1 < 2 AS t, NULL::BOOLEAN AS n

-- @ nested json {"columns": ["l", "s", "m"], "types": ["BIGINT[]", "STRUCT(a INTEGER, b VARCHAR[])", "MAP(VARCHAR, BIGINT)"], "rows": [[[1, "9007199254740993"], {"a": 1, "b": ["x", null]}, {"k": "18014398509481984"}]]}
SELECT [1, 9007199254740993] AS l, {'a': 1, 'b': ['x', NULL]} AS s, MAP {'k': 18014398509481984} AS m

-- @ max_rows rows 10000
SELECT * FROM connection_events ORDER BY id

-- @ aggregate_only_table refused body_metrics is aggregate-only
SELECT user_id, weight_kg FROM body_metrics

-- @ aggregate_only_in_subquery refused body_metrics is aggregate-only
SELECT count(*) FROM users WHERE id IN (SELECT user_id FROM body_metrics)

-- @ system_table refused _sm_runs is a system table
SELECT * FROM _sm_runs

-- @ dropped_column refused Referenced column "email" not found
SELECT email FROM users

-- @ unknown_table refused orders is not a table of the mirror
SELECT * FROM orders

-- @ pivot_without_values refused name the values
PIVOT devices ON category USING count(*) GROUP BY model

-- @ pivot_order_by refused SELECT * FROM (PIVOT
PIVOT devices ON category IN ('camera') USING count(*) GROUP BY model ORDER BY model

-- @ syntax_error refused could not be parsed
SELECT count(*) FORM users

-- @ cte_self_reference_is_the_table refused body_metrics is aggregate-only
WITH body_metrics AS (SELECT * FROM body_metrics) SELECT count(*) FROM body_metrics
