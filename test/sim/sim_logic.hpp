/*
 * sim_logic.hpp — the pure parts of the CRM simulator: deterministic random numbers, tenant sampling
 * (uniform and Zipf), the query mix, the formulas the seeded data follows (in both forms of the CRM),
 * latency statistics and the run's JSON. No libpq and no PostgreSQL headers: the unit tests compile this
 * file on its own.
 */
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace sim
{

/* splitmix64 finaliser: a good 64-bit mix, the same on every platform. */
uint64_t Mix64(uint64_t x);

/* splitmix64 generator. std::*_distribution differ between standard libraries; this does not. */
class Rng
{
public:
	explicit Rng(uint64_t seed) : state_(seed) {}
	uint64_t Next();
	double Uniform();           // [0, 1)
	uint64_t Below(uint64_t n); // [0, n); n > 0

private:
	uint64_t state_;
};

/* Zipf over ranks 1..n: P(k) proportional to 1 / k^s. Sampled by binary search in the cumulative table. */
class Zipf
{
public:
	Zipf(uint64_t n, double s);
	uint64_t Sample(double u) const; // u in [0, 1) -> rank in [1, n]
	double Probability(uint64_t k) const;
	uint64_t Size() const { return cdf_.size(); }

private:
	std::vector<double> cdf_;
};

/*
 * The two forms of the CRM:
 *   tenant     (test/sim/crm_schema.sql) every primary key leads with tenant_id (tenant_id, contact_id), and
 *              e-mail addresses name their tenant, so no two tenants share one;
 *   surrogate  (test/sim/crm_schema_surrogate.sql) every table has a surrogate primary key `id` alone, as
 *              most ORMs create them, tenant_id is a plain column, and every tenant numbers its contacts'
 *              addresses the same way, so `email = x` alone matches a row of every tenant.
 * The statements filter on the same columns in both; only the names of the key columns differ.
 */
enum class Form { Tenant, Surrogate };
const char *FormName(Form form);
Form ParseForm(const std::string &name); // "tenant" or "surrogate"; throws std::invalid_argument otherwise

/* ---- the query mix --------------------------------------------------------------------------------- */
enum PatternId {
	kContactsByEmail,
	kContactsByPhone,
	kOrgsByIndustry,
	kInteractionsByTypeDate,
	kContactsByCustom1,
	kContactsByTitle,
	kOrgsByCountry,
	kInsertInteraction,
	kUpdateContact,
	kPatternCount
};

enum class PatternClass { Hot, Moderate, Rare, Write };

struct Pattern {
	const char *name;
	PatternClass cls;
	double weight;             // default share of statements, percent
	const char *table;         // the CRM table it reads or writes
	const char *field;         // the field it filters on (for the report), "" for writes
	const char *sql;           // the statement in the tenant form; $1 is always the tenant
	const char *surrogate_sql; // the same statement in the surrogate form
};

extern const std::array<Pattern, kPatternCount> kPatterns;
const char *ClassName(PatternClass cls);
const char *PatternSql(PatternId p, Form form);

/* Weighted choice of a pattern. Without a tenant that expresses custom_text_1 its weight is zero. */
class Mix
{
public:
	explicit Mix(bool custom_tenants_exist, std::array<double, kPatternCount> weights = DefaultWeights());
	PatternId Pick(double u) const; // u in [0, 1)
	double Share(PatternId p) const;
	static std::array<double, kPatternCount> DefaultWeights();

private:
	std::array<double, kPatternCount> cdf_{};
};

/* ---- the seeded data --------------------------------------------------------------------------------- */
/*
 * Rows of all tenants are interleaved (row k of every tenant, then row k+1 of every tenant), the way a
 * shared CRM's rows arrive over time, so one tenant's rows are spread over the table rather than packed.
 * Ids are global: the k-th row (0-based) of tenant t (1-based) has id k * tenants + t.
 * Everything a query needs to name an existing row (email, phone, ids) depends only on the tenant and
 * the row's number; the seed decides the rest (names, industries, dates, ...).
 */
struct Scale {
	uint32_t tenants = 1000;
	uint32_t contacts_per_tenant = 1000;
	uint32_t orgs_per_tenant = 250;
	uint32_t interactions_per_contact = 3;
	uint32_t custom_percent = 5; // share of tenants that use custom_text_1
	Form form = Form::Tenant;    // decides the contacts' e-mail addresses (the key columns are the schema's)

	uint64_t Orgs() const { return uint64_t(tenants) * orgs_per_tenant; }
	uint64_t Contacts() const { return uint64_t(tenants) * contacts_per_tenant; }
	uint64_t Interactions() const { return Contacts() * interactions_per_contact; }
	uint64_t TotalRows() const { return tenants + Orgs() + Contacts() + Interactions(); }
	uint64_t RowId(uint32_t tenant, uint64_t k) const { return k * tenants + tenant; }
};

extern const std::vector<std::string> kIndustries, kCountries, kTitles, kTypes, kCustomValues;

/* Epoch of the generated history: interactions happen in the year before 2026-01-01 00:00 UTC. */
constexpr int64_t kHistoryEnd = 1767225600;
constexpr int64_t kHistoryDays = 365;

std::string ContactEmail(uint32_t tenant, uint64_t k, Form form = Form::Tenant);
std::string ContactPhone(uint32_t tenant, uint64_t k);
bool TenantUsesCustom(uint32_t tenant, uint32_t percent);
std::string FormatTimestamp(int64_t unix_seconds); // "YYYY-MM-DD HH:MM:SS+00"
std::string Fmt(const char *format, double v);     // one number through printf (reports)

/* COPY text lines (tab-separated, \N for NULL, ending in '\n') for global row number g of each table. */
void AppendTenantRow(std::string &out, const Scale &scale, uint64_t seed, uint32_t tenant);
void AppendOrgRow(std::string &out, const Scale &scale, uint64_t seed, uint64_t g);
void AppendContactRow(std::string &out, const Scale &scale, uint64_t seed, uint64_t g);
void AppendInteractionRow(std::string &out, const Scale &scale, uint64_t seed, uint64_t g);

extern const char *const kTenantColumns, *const kOrgColumns, *const kContactColumns, *const kInteractionColumns;

/* The COPY column lists of a form: the same columns in the same order, the key columns named as it names them. */
struct CopyColumns {
	const char *tenants, *orgs, *contacts, *interactions;
};
CopyColumns FormColumns(Form form);

/* Parameters ($2...) of one statement of a pattern for a tenant; $1 is the tenant. */
std::vector<std::string> PatternParams(PatternId p, const Scale &scale, uint32_t tenant, Rng &rng);

/* ---- latency statistics ------------------------------------------------------------------------------ */
/* Nearest-rank percentile (p in (0, 100]) of sorted values; 0 for none. */
double Percentile(const std::vector<double> &sorted, double p);

/* Log-spaced histogram bucket edges in ms: 0.01 ms to 100 s, 10 buckets a decade. */
const std::vector<double> &HistogramEdges();
size_t HistogramBucket(double ms); // bucket i holds edges[i] <= ms < edges[i+1]; the last bucket is open

struct LatencySummary {
	uint64_t count = 0;
	uint64_t errors = 0;
	double avg_ms = 0, p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0;
	std::vector<uint64_t> histogram; // HistogramEdges().size() buckets
};

LatencySummary Summarize(std::vector<double> samples_ms, uint64_t errors);

/* One run's JSON: meta (scenario, scale, ...) as given, then statistics per pattern and in total. */
nlohmann::json RunJson(const nlohmann::json &meta, const std::array<LatencySummary, kPatternCount> &patterns,
					   double measured_seconds);

} // namespace sim
