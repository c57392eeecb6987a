/*
 * sim_logic.cpp — the pure parts of the CRM simulator (see sim_logic.hpp). No libpq here.
 */
#include "sim_logic.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace sim
{

uint64_t
Mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

uint64_t
Rng::Next()
{
	state_ += 0x9e3779b97f4a7c15ULL;
	uint64_t z = state_;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double
Rng::Uniform()
{
	return double(Next() >> 11) * 0x1.0p-53;
}

uint64_t
Rng::Below(uint64_t n)
{
	return n == 0 ? 0 : Next() % n; // the modulo bias is below 2^-40 for the sizes we use
}

Zipf::Zipf(uint64_t n, double s)
{
	if (n == 0)
		throw std::invalid_argument("Zipf needs at least one rank");
	if (!(s > 0))
		throw std::invalid_argument("Zipf exponent must be positive");
	cdf_.resize(n);
	double sum = 0;
	for (uint64_t k = 1; k <= n; k++) {
		sum += 1.0 / std::pow(double(k), s);
		cdf_[k - 1] = sum;
	}
	for (double &c : cdf_)
		c /= sum;
	cdf_.back() = 1.0;
}

uint64_t
Zipf::Sample(double u) const
{
	auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
	if (it == cdf_.end())
		--it;
	return uint64_t(it - cdf_.begin()) + 1;
}

double
Zipf::Probability(uint64_t k) const
{
	if (k < 1 || k > cdf_.size())
		return 0;
	return k == 1 ? cdf_[0] : cdf_[k - 1] - cdf_[k - 2];
}

/* ---- the query mix ------------------------------------------------------------------------------------ */
const std::array<Pattern, kPatternCount> kPatterns = {{
	{"contacts_by_email", PatternClass::Hot, 24, "crm.contacts", "email",
	 "SELECT contact_id, first_name, last_name FROM crm.contacts WHERE tenant_id = $1 AND email = $2",
	 "SELECT id, first_name, last_name FROM crm.contacts WHERE tenant_id = $1 AND email = $2"},
	{"contacts_by_phone", PatternClass::Hot, 18, "crm.contacts", "phone",
	 "SELECT contact_id, email FROM crm.contacts WHERE tenant_id = $1 AND phone = $2",
	 "SELECT id, email FROM crm.contacts WHERE tenant_id = $1 AND phone = $2"},
	{"orgs_by_industry", PatternClass::Hot, 14, "crm.organizations", "industry",
	 "SELECT org_id, name FROM crm.organizations WHERE tenant_id = $1 AND industry = $2",
	 "SELECT id, name FROM crm.organizations WHERE tenant_id = $1 AND industry = $2"},
	{"interactions_by_type_date", PatternClass::Hot, 14, "crm.interactions", "type, occurred_at",
	 "SELECT interaction_id, contact_id, occurred_at FROM crm.interactions WHERE tenant_id = $1 AND type = $2 "
	 "AND occurred_at >= $3::timestamptz AND occurred_at < $4::timestamptz",
	 "SELECT id, contact_id, occurred_at FROM crm.interactions WHERE tenant_id = $1 AND type = $2 "
	 "AND occurred_at >= $3::timestamptz AND occurred_at < $4::timestamptz"},
	{"contacts_by_custom_text_1", PatternClass::Moderate, 6, "crm.contacts", "custom_text_1",
	 "SELECT contact_id, email FROM crm.contacts WHERE tenant_id = $1 AND custom_text_1 = $2",
	 "SELECT id, email FROM crm.contacts WHERE tenant_id = $1 AND custom_text_1 = $2"},
	{"contacts_by_title", PatternClass::Rare, 0.5, "crm.contacts", "title",
	 "SELECT contact_id, email FROM crm.contacts WHERE tenant_id = $1 AND title = $2",
	 "SELECT id, email FROM crm.contacts WHERE tenant_id = $1 AND title = $2"},
	{"orgs_by_country", PatternClass::Rare, 0.5, "crm.organizations", "country",
	 "SELECT org_id, name FROM crm.organizations WHERE tenant_id = $1 AND country = $2",
	 "SELECT id, name FROM crm.organizations WHERE tenant_id = $1 AND country = $2"},
	{"insert_interaction", PatternClass::Write, 12, "crm.interactions", "",
	 "INSERT INTO crm.interactions (tenant_id, contact_id, type, occurred_at, duration_seconds, subject, "
	 "created_by) VALUES ($1, $2, $3, $4::timestamptz, $5, $6, 'crmsim')",
	 "INSERT INTO crm.interactions (tenant_id, contact_id, type, occurred_at, duration_seconds, subject, "
	 "created_by) VALUES ($1, $2, $3, $4::timestamptz, $5, $6, 'crmsim')"},
	{"update_contact", PatternClass::Write, 11, "crm.contacts", "",
	 "UPDATE crm.contacts SET last_contacted_at = $3::timestamptz, lead_score = $4 WHERE tenant_id = $1 AND "
	 "contact_id = $2",
	 "UPDATE crm.contacts SET last_contacted_at = $3::timestamptz, lead_score = $4 WHERE tenant_id = $1 AND "
	 "id = $2"},
}};

const char *
FormName(Form form)
{
	return form == Form::Surrogate ? "surrogate" : "tenant";
}

Form
ParseForm(const std::string &name)
{
	if (name == "tenant")
		return Form::Tenant;
	if (name == "surrogate")
		return Form::Surrogate;
	throw std::invalid_argument("unknown form '" + name + "' (tenant or surrogate)");
}

const char *
PatternSql(PatternId p, Form form)
{
	return form == Form::Surrogate ? kPatterns[p].surrogate_sql : kPatterns[p].sql;
}

const char *
ClassName(PatternClass cls)
{
	switch (cls) {
		case PatternClass::Hot:
			return "hot";
		case PatternClass::Moderate:
			return "moderate";
		case PatternClass::Rare:
			return "rare";
		case PatternClass::Write:
			return "write";
	}
	return "?";
}

std::array<double, kPatternCount>
Mix::DefaultWeights()
{
	std::array<double, kPatternCount> w{};
	for (size_t i = 0; i < kPatternCount; i++)
		w[i] = kPatterns[i].weight;
	return w;
}

Mix::Mix(bool custom_tenants_exist, std::array<double, kPatternCount> weights)
{
	if (!custom_tenants_exist)
		weights[kContactsByCustom1] = 0;
	double sum = 0;
	for (size_t i = 0; i < kPatternCount; i++) {
		if (weights[i] < 0)
			throw std::invalid_argument("a pattern weight is negative");
		sum += weights[i];
		cdf_[i] = sum;
	}
	if (!(sum > 0))
		throw std::invalid_argument("every pattern weight is zero");
	for (double &c : cdf_)
		c /= sum;
}

PatternId
Mix::Pick(double u) const
{
	for (size_t i = 0; i < kPatternCount; i++)
		if (u < cdf_[i])
			return PatternId(i);
	// u rounds up to the last cumulative value: the last pattern with a weight
	for (size_t i = kPatternCount; i-- > 0;)
		if (Share(PatternId(i)) > 0)
			return PatternId(i);
	return PatternId(0);
}

double
Mix::Share(PatternId p) const
{
	return p == 0 ? cdf_[0] : cdf_[p] - cdf_[p - 1];
}

/* ---- the seeded data ---------------------------------------------------------------------------------- */
const std::vector<std::string> kIndustries = {"software",    "retail",        "health",    "finance",
											  "education",   "energy",        "logistics", "media",
											  "hospitality", "manufacturing", "legal",     "agriculture"};
const std::vector<std::string> kCountries = {"NZ", "AU", "US", "GB", "DE", "FR", "JP", "BR", "IN", "CA", "ZA", "SE"};
const std::vector<std::string> kTitles = {"CEO",      "CTO",     "CFO",       "VP Sales", "Engineer",   "Analyst",
										  "Designer", "Manager", "Recruiter", "Buyer",    "Consultant", "Director"};
const std::vector<std::string> kTypes = {"call", "email", "meeting", "note", "task"};
static std::vector<std::string>
MakeCustomValues()
{
	std::vector<std::string> v;
	for (int i = 0; i < 40; i++)
		v.push_back("segment-" + std::to_string(i));
	return v;
}
const std::vector<std::string> kCustomValues = MakeCustomValues();

static const char *const kFirstNames[] = {"Ana",  "Ben",  "Chloe", "Dev",  "Ema", "Femi", "Gus",    "Hana",
										  "Ivan", "Jade", "Kiri",  "Liam", "Mia", "Noah", "Olga",   "Pita",
										  "Quin", "Rua",  "Sam",   "Tama", "Uma", "Vik",  "Wiremu", "Xia"};
static const char *const kLastNames[] = {"Smith", "Ngata", "Chen", "Patel", "Brown", "Kim",  "Garcia", "Muller",
										 "Rossi", "Wong",  "Khan", "Silva", "Jones", "Tane", "Novak",  "Sato"};
static const char *const kPlans[] = {"free", "standard", "enterprise"};
static const char *const kStatuses[] = {"lead", "prospect", "customer", "former"};
static const char *const kOutcomes[] = {"positive", "neutral", "negative", "follow-up"};

std::string
ContactEmail(uint32_t tenant, uint64_t k, Form form)
{
	// surrogate: the k-th contact of every tenant has the same address, so the address alone is no key
	if (form == Form::Surrogate)
		return "c" + std::to_string(k) + "@shared.example";
	return "c" + std::to_string(k) + "@t" + std::to_string(tenant) + ".example";
}

std::string
ContactPhone(uint32_t tenant, uint64_t k)
{
	uint64_t h = Mix64((uint64_t(tenant) << 32) ^ k ^ 0x70686f6e65ULL);
	char buf[32];
	snprintf(buf, sizeof buf, "+64-%02u-%03u-%04u", unsigned(h % 90 + 10), unsigned((h >> 8) % 1000),
			 unsigned((h >> 20) % 10000));
	return std::string(buf) + "-" + std::to_string(k); // the suffix keeps phones unique within a tenant
}

bool
TenantUsesCustom(uint32_t tenant, uint32_t percent)
{
	return Mix64(uint64_t(tenant) ^ 0x637573746f6dULL) % 100 < percent;
}

std::string
Fmt(const char *format, double v)
{
	char buf[64];
	snprintf(buf, sizeof buf, format, v);
	return buf;
}

std::string
FormatTimestamp(int64_t unix_seconds)
{
	time_t t = time_t(unix_seconds);
	struct tm tm;
	gmtime_r(&t, &tm);
	char buf[40];
	strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S+00", &tm);
	return buf;
}

/* Row-local generator: a row's values depend on (seed, table, row id) only, not on the order of loading. */
static Rng
RowRng(uint64_t seed, uint64_t table, uint64_t id)
{
	return Rng(Mix64(seed ^ (table << 56) ^ Mix64(id)));
}

template <typename T, size_t N>
static const T &
Choose(const T (&arr)[N], Rng &rng)
{
	return arr[rng.Below(N)];
}

static const std::string &
Choose(const std::vector<std::string> &v, Rng &rng)
{
	return v[rng.Below(v.size())];
}

static void
Field(std::string &out, const std::string &v, char sep = '\t')
{
	out += v;
	out += sep;
}

const char *const kTenantColumns = "tenant_id, name, plan, created_at";
const char *const kOrgColumns =
	"tenant_id, org_id, name, industry, country, city, employee_count, annual_revenue, website, created_at";
const char *const kContactColumns =
	"tenant_id, contact_id, org_id, first_name, last_name, email, phone, title, status, lead_score, created_at, "
	"last_contacted_at, custom_text_1, custom_text_2, custom_text_3";
const char *const kInteractionColumns =
	"tenant_id, interaction_id, contact_id, type, occurred_at, duration_seconds, subject, notes, outcome, created_by";

CopyColumns
FormColumns(Form form)
{
	if (form == Form::Tenant)
		return {kTenantColumns, kOrgColumns, kContactColumns, kInteractionColumns};
	return {"id, name, plan, created_at",
			"tenant_id, id, name, industry, country, city, employee_count, annual_revenue, website, created_at",
			"tenant_id, id, org_id, first_name, last_name, email, phone, title, status, lead_score, created_at, "
			"last_contacted_at, custom_text_1, custom_text_2, custom_text_3",
			"tenant_id, id, contact_id, type, occurred_at, duration_seconds, subject, notes, outcome, created_by"};
}

static std::string
PastTime(Rng &rng, int64_t days)
{
	return FormatTimestamp(kHistoryEnd - int64_t(rng.Below(uint64_t(days) * 86400)));
}

void
AppendTenantRow(std::string &out, const Scale &, uint64_t seed, uint32_t tenant)
{
	Rng rng = RowRng(seed, 1, tenant);
	Field(out, std::to_string(tenant));
	Field(out, "Tenant " + std::to_string(tenant));
	Field(out, Choose(kPlans, rng));
	Field(out, PastTime(rng, 5 * kHistoryDays), '\n');
}

void
AppendOrgRow(std::string &out, const Scale &scale, uint64_t seed, uint64_t g)
{
	uint32_t tenant = uint32_t(g % scale.tenants) + 1;
	uint64_t id = g + 1;
	Rng rng = RowRng(seed, 2, id);
	Field(out, std::to_string(tenant));
	Field(out, std::to_string(id));
	Field(out, "Org " + std::to_string(id));
	Field(out, Choose(kIndustries, rng));
	Field(out, Choose(kCountries, rng));
	Field(out, "City " + std::to_string(rng.Below(200)));
	Field(out, std::to_string(rng.Below(5000) + 1));
	Field(out, std::to_string(rng.Below(100000000)) + "." + std::to_string(rng.Below(90) + 10));
	Field(out, "https://org" + std::to_string(id) + ".example");
	Field(out, PastTime(rng, 3 * kHistoryDays), '\n');
}

void
AppendContactRow(std::string &out, const Scale &scale, uint64_t seed, uint64_t g)
{
	uint32_t tenant = uint32_t(g % scale.tenants) + 1;
	uint64_t k = g / scale.tenants;
	uint64_t id = g + 1;
	Rng rng = RowRng(seed, 3, id);
	Field(out, std::to_string(tenant));
	Field(out, std::to_string(id));
	Field(out, std::to_string(scale.RowId(tenant, rng.Below(scale.orgs_per_tenant))));
	Field(out, Choose(kFirstNames, rng));
	Field(out, Choose(kLastNames, rng));
	Field(out, ContactEmail(tenant, k, scale.form));
	Field(out, ContactPhone(tenant, k));
	Field(out, Choose(kTitles, rng));
	Field(out, Choose(kStatuses, rng));
	Field(out, std::to_string(rng.Below(101)));
	Field(out, PastTime(rng, 2 * kHistoryDays));
	Field(out, rng.Below(4) == 0 ? std::string("\\N") : PastTime(rng, kHistoryDays));
	Field(out, TenantUsesCustom(tenant, scale.custom_percent) ? Choose(kCustomValues, rng) : std::string("\\N"));
	Field(out, "\\N");
	Field(out, "\\N", '\n');
}

void
AppendInteractionRow(std::string &out, const Scale &scale, uint64_t seed, uint64_t g)
{
	uint32_t tenant = uint32_t(g % scale.tenants) + 1;
	uint64_t k = g / scale.tenants;
	uint64_t id = g + 1;
	Rng rng = RowRng(seed, 4, id);
	Field(out, std::to_string(tenant));
	Field(out, std::to_string(id));
	Field(out, std::to_string(scale.RowId(tenant, k % scale.contacts_per_tenant)));
	const std::string &type = Choose(kTypes, rng);
	Field(out, type);
	Field(out, PastTime(rng, kHistoryDays));
	Field(out, std::to_string(rng.Below(3600)));
	Field(out, type + " #" + std::to_string(id));
	Field(out, rng.Below(3) == 0 ? std::string("\\N") : "notes about " + type + " " + std::to_string(rng.Below(1000)));
	Field(out, Choose(kOutcomes, rng));
	Field(out, "user" + std::to_string(rng.Below(20)), '\n');
}

std::vector<std::string>
PatternParams(PatternId p, const Scale &scale, uint32_t tenant, Rng &rng)
{
	uint64_t k = rng.Below(scale.contacts_per_tenant);
	switch (p) {
		case kContactsByEmail:
			return {ContactEmail(tenant, k, scale.form)};
		case kContactsByPhone:
			return {ContactPhone(tenant, k)};
		case kOrgsByIndustry:
			return {Choose(kIndustries, rng)};
		case kInteractionsByTypeDate: {
			int64_t from = kHistoryEnd - int64_t(rng.Below(kHistoryDays - 7) + 7) * 86400;
			return {Choose(kTypes, rng), FormatTimestamp(from), FormatTimestamp(from + 7 * 86400)};
		}
		case kContactsByCustom1:
			return {Choose(kCustomValues, rng)};
		case kContactsByTitle:
			return {Choose(kTitles, rng)};
		case kOrgsByCountry:
			return {Choose(kCountries, rng)};
		case kInsertInteraction:
			return {std::to_string(scale.RowId(tenant, k)), Choose(kTypes, rng), PastTime(rng, 30),
					std::to_string(rng.Below(3600)), "simulated"};
		case kUpdateContact:
			return {std::to_string(scale.RowId(tenant, k)), FormatTimestamp(kHistoryEnd),
					std::to_string(rng.Below(101))};
		case kPatternCount:
			break;
	}
	throw std::invalid_argument("unknown pattern");
}

/* ---- latency statistics ------------------------------------------------------------------------------ */
double
Percentile(const std::vector<double> &sorted, double p)
{
	if (sorted.empty())
		return 0;
	double rank = std::ceil(p / 100.0 * double(sorted.size()));
	size_t i = rank < 1 ? 0 : size_t(rank) - 1;
	return sorted[std::min(i, sorted.size() - 1)];
}

const std::vector<double> &
HistogramEdges()
{
	static const std::vector<double> edges = [] {
		std::vector<double> e;
		for (int i = 0; i <= 70; i++) // 10^-2 .. 10^5 ms
			e.push_back(std::pow(10.0, -2.0 + i / 10.0));
		return e;
	}();
	return edges;
}

size_t
HistogramBucket(double ms)
{
	const auto &e = HistogramEdges();
	auto it = std::upper_bound(e.begin(), e.end(), ms);
	if (it == e.begin())
		return 0;
	return std::min(size_t(it - e.begin()) - 1, e.size() - 1);
}

LatencySummary
Summarize(std::vector<double> samples, uint64_t errors)
{
	LatencySummary s;
	s.errors = errors;
	s.count = samples.size();
	s.histogram.assign(HistogramEdges().size(), 0);
	if (samples.empty())
		return s;
	std::sort(samples.begin(), samples.end());
	double sum = 0;
	for (double v : samples) {
		sum += v;
		s.histogram[HistogramBucket(v)]++;
	}
	s.avg_ms = sum / double(samples.size());
	s.p50_ms = Percentile(samples, 50);
	s.p95_ms = Percentile(samples, 95);
	s.p99_ms = Percentile(samples, 99);
	s.max_ms = samples.back();
	return s;
}

static double
Round3(double v)
{
	return std::round(v * 1000.0) / 1000.0;
}

static nlohmann::json
SummaryJson(const LatencySummary &s)
{
	return {{"count", s.count},           {"errors", s.errors},         {"avg_ms", Round3(s.avg_ms)},
			{"p50_ms", Round3(s.p50_ms)}, {"p95_ms", Round3(s.p95_ms)}, {"p99_ms", Round3(s.p99_ms)},
			{"max_ms", Round3(s.max_ms)}, {"histogram", s.histogram}};
}

nlohmann::json
RunJson(const nlohmann::json &meta, const std::array<LatencySummary, kPatternCount> &patterns, double measured_seconds)
{
	nlohmann::json j;
	j["format"] = "indexpilot-crmsim-run/1";
	j["meta"] = meta;
	j["measured_seconds"] = Round3(measured_seconds);
	j["histogram_edges_ms"] = HistogramEdges();
	uint64_t total = 0, errors = 0;
	nlohmann::json list = nlohmann::json::array();
	for (size_t i = 0; i < kPatternCount; i++) {
		nlohmann::json p = SummaryJson(patterns[i]);
		p["name"] = kPatterns[i].name;
		p["class"] = ClassName(kPatterns[i].cls);
		p["table"] = kPatterns[i].table;
		p["field"] = kPatterns[i].field;
		list.push_back(p);
		total += patterns[i].count;
		errors += patterns[i].errors;
	}
	j["patterns"] = list;
	j["total_statements"] = total;
	j["total_errors"] = errors;
	j["throughput_per_s"] = measured_seconds > 0 ? Round3(double(total) / measured_seconds) : 0.0;
	return j;
}

} // namespace sim
