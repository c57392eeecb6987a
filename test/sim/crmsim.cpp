/*
 * crmsim.cpp — the CRM simulator: creates and seeds the mini-CRM, runs concurrent clients with a
 * per-tenant query mix, records what IndexPilot did, and writes the before/after report.
 *
 *   crmsim setup         create schema crm (tenant or surrogate form), seed it with COPY, VACUUM ANALYZE,
 *                        register it with IndexPilot
 *   crmsim run           a baseline, expert or autoindex run; writes one JSON file
 *   crmsim report        Markdown, HTML and SVG from the baseline, autoindex and expert JSON files
 *   crmsim timeline      the timeline report of one run (scenario shift): latency per pattern over time,
 *                        each index's life, the shift's criteria
 *   crmsim bench-report  make bench-advisor's table: IndexPilot's runs against the expert's, repetition by
 *                        repetition, with the goals' verdicts
 *
 * A client program, not server code: one libpq connection per client thread. Connection settings come
 * from --dsn or libpq's environment (PGHOST, PGPORT, PGUSER, PGDATABASE).
 */
#include "bench.hpp"
#include "report.hpp"
#include "sim_logic.hpp"
#include "timeline.hpp"

#include <libpq-fe.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace
{

/* ---- command line ------------------------------------------------------------------------------------ */
struct OptionSpec {
	const char *name;
	const char *def;
	const char *help;
};

const OptionSpec kCommon[] = {
	{"dsn", "", "libpq connection string (default: PGHOST, PGPORT, PGUSER, PGDATABASE)"},
	{"seed", "42", "random seed; the same seed gives the same data and the same statement sequence"},
};
const OptionSpec kSetupOptions[] = {
	{"tenants", "1000", "tenants"},
	{"contacts", "1000", "contacts per tenant"},
	{"orgs", "0", "organizations per tenant (0: a quarter of --contacts, at least 1)"},
	{"interactions", "3", "interactions per contact"},
	{"custom-percent", "5", "percent of tenants that use the optional field contacts.custom_text_1"},
	{"form", "tenant",
	 "tenant (primary keys lead with tenant_id, addresses unique) or surrogate (primary key id alone, the "
	 "same addresses in every tenant)"},
	{"jobs", "2", "parallel COPY connections (1 when not a superuser: foreign keys are then checked)"},
	{"drop", "no", "yes: drop an existing schema crm first"},
	{"sql-dir", "",
	 "directory of crm_schema[_surrogate].sql and crm_register[_surrogate].sql (default: the program's "
	 "directory)"},
};
const OptionSpec kRunOptions[] = {
	{"mode", "baseline",
	 "baseline (IndexPilot bypassed), expert (the same, on a CRM with hand-made indexes) or autoindex "
	 "(warm-up, IndexPilot decides, measured run)"},
	{"scenario", "steady",
	 "steady (uniform tenants), spike (a quarter of the clients, all of them in the middle "
	 "fifth of the run), skew (Zipf over tenants) or shift (contacts_by_title does not run until halfway "
	 "through the measured run, when contacts_by_phone stops and contacts_by_title starts with both shares; "
	 "the run records a timeline)"},
	{"decide", "",
	 "autoindex: run_now (indexpilot_run_now() until nothing is chosen, before the measured run) or worker "
	 "(the background worker alone: in the shift scenario during the measured run, after a warm-up with "
	 "IndexPilot switched off; otherwise during the warm-up and until nothing has been built for --decide-quiet s, at "
	 "most "
	 "--decide-wait seconds); default: worker for shift, run_now otherwise"},
	{"worker-settings", "default",
	 "--decide worker: indexpilot.* settings for the run as name=value,... (ALTER SYSTEM, put back afterwards); "
	 "'' leaves the server's; default: flush_interval=5s,advise_interval=10s,naptime=1s,validate_window=30s, "
	 "and for shift also retire_after=1min,stats_window=1min (a short window lets the abandoned index go)"},
	{"window", "10", "seconds per window of the timeline"},
	{"clients", "4", "concurrent client connections"},
	{"duration", "60", "seconds measured (0: no measured run; crmsim alternate measures it)"},
	{"warmup", "30", "seconds of traffic before the measured run, not measured (autoindex: before IndexPilot decides)"},
	{"warmup-like", "",
	 "a run's JSON: warm up as long as its warm-up lasted (the expert's run gets the statements the autoindex run "
	 "learned from, while its worker decided and built), instead of --warmup"},
	{"decide-wait", "60", "autoindex by the worker (or without indexpilot_run_now()): seconds to wait for it"},
	{"decide-quiet", "30",
	 "autoindex by the worker: it has decided when it has built nothing more for so many seconds"},
	{"rate", "0", "target statements per second over all clients (0: as fast as they can)"},
	{"protocol", "prepared",
	 "prepared (each client prepares each statement once, as drivers and pools do) or unnamed (parsed and "
	 "planned at every execution)"},
	{"zipf", "1.1", "skew: Zipf exponent over tenants"},
	{"custom-percent", "5", "used only when IndexPilot is not installed: as given to setup"},
	{"indexes", "",
	 "expert: a SQL file (the hand-made index set) run after the warm-up, where the autoindex run lets "
	 "IndexPilot decide and build"},
	{"checkpoint", "no", "yes: CHECKPOINT right before the measured run (after warm-up and decisions)"},
	{"out", "", "the JSON file to write (default: <mode>.json)"},
};
const OptionSpec kAlternateOptions[] = {
	{"pair-dsn", "", "the other database, prepared like the first (crmsim run --duration 0)"},
	{"in", "", "the first database's JSON from crmsim run --duration 0"},
	{"pair-in", "", "the other database's JSON from crmsim run --duration 0"},
	{"out", "", "the first database's JSON with the measured run (default: --in)"},
	{"pair-out", "", "the other database's JSON with the measured run (default: --pair-in)"},
	{"clients", "4", "concurrent client connections"},
	{"duration", "60", "seconds measured on each database, in --slices slices"},
	{"slices", "6", "slices per database; slice k runs on both, first-first when k is even, the other first when odd"},
	{"rate", "-1",
	 "target statements per second over all clients (-1: the runs' own --rate; 0: as fast as they can, for "
	 "throughput at saturation)"},
	{"interleave", "0",
	 "seconds: every client holds a connection to each database and all switch between them this often, so "
	 "that both see the machine alike (both must fit in shared buffers: no re-warming); --slices then groups "
	 "the windows into pairs (0: slices run one database at a time)"},
	{"checkpoint", "no", "yes: CHECKPOINT in both databases right before the first slice"},
};
const OptionSpec kReportOptions[] = {
	{"baseline", "sim-out/baseline.json", "the baseline run's JSON"},
	{"autoindex", "sim-out/autoindex.json", "the autoindex run's JSON"},
	{"expert", "", "the expert's run JSON (crmsim run --mode expert, measured by crmsim alternate); '': not judged"},
	{"throughput", "",
	 "the autoindex JSON of the closed-loop phase (crmsim alternate --rate 0 with the expert's second), with its "
	 "pair ratios"},
	{"out-dir", "sim-out", "where report.md, report.html and the SVG plots go"},
	{"strict", "no", "yes: exit with status 2 when a success criterion is not met"},
};
const OptionSpec kTimelineOptions[] = {
	{"run", "sim-out/shift.json", "the run's JSON (crmsim run --scenario shift)"},
	{"out-dir", "sim-out", "where timeline.md, timeline.html and timeline.svg go"},
	{"strict", "no", "yes: exit with status 2 when a criterion is not met"},
};
const OptionSpec kBenchReportOptions[] = {
	{"dir", "", "one form's directory: rep-1/indexpilot.json, rep-1/expert.json, rep-2/..."},
	{"title", "", "the table's heading (default: the directory)"},
};

struct CommandSpec {
	const char *name;
	const char *summary;
	const OptionSpec *options;
	size_t count;
};

const CommandSpec kCommands[] = {
	{"setup", "create schema crm, seed it with COPY, VACUUM ANALYZE, register it with IndexPilot", kSetupOptions,
	 sizeof kSetupOptions / sizeof kSetupOptions[0]},
	{"run", "run concurrent clients and write one JSON file (--duration 0: everything but the measured run)",
	 kRunOptions, sizeof kRunOptions / sizeof kRunOptions[0]},
	{"alternate",
	 "the measured runs of two prepared databases, alternating in slices (the same statements on both) "
	 "or, with --interleave, every client switching between them",
	 kAlternateOptions, sizeof kAlternateOptions / sizeof kAlternateOptions[0]},
	{"report", "write the report from the baseline, autoindex and expert JSON files", kReportOptions,
	 sizeof kReportOptions / sizeof kReportOptions[0]},
	{"timeline", "write the timeline report of one run (scenario shift)", kTimelineOptions,
	 sizeof kTimelineOptions / sizeof kTimelineOptions[0]},
	{"bench-report", "print make bench-advisor's table for one form from its repetitions' JSON files",
	 kBenchReportOptions, sizeof kBenchReportOptions / sizeof kBenchReportOptions[0]},
};

void
PrintHelp(const CommandSpec *only)
{
	std::cout << "crmsim — IndexPilot's CRM simulator\n\nusage: crmsim COMMAND [--option value | --option=value ...]\n";
	for (const auto &c : kCommands) {
		if (only && only != &c)
			continue;
		std::cout << "\ncrmsim " << c.name << ": " << c.summary << "\n";
		for (size_t i = 0; i < c.count; i++)
			printf("  --%-16s %s%s%s%s\n", c.options[i].name, c.options[i].help, *c.options[i].def ? " (default: " : "",
				   c.options[i].def, *c.options[i].def ? ")" : "");
		if (strcmp(c.name, "report") != 0 && strcmp(c.name, "bench-report") != 0 && strcmp(c.name, "timeline") != 0)
			for (const auto &o : kCommon)
				printf("  --%-16s %s%s%s%s\n", o.name, o.help, *o.def ? " (default: " : "", o.def, *o.def ? ")" : "");
	}
	std::cout << "\nExamples:\n  crmsim setup --tenants 1000 --contacts 1000 [--form surrogate]\n"
				 "  crmsim run --mode baseline --duration 60 --out sim-out/baseline.json\n"
				 "  crmsim run --mode autoindex --scenario skew --out sim-out/autoindex.json\n"
				 "  crmsim report --baseline sim-out/baseline.json --autoindex sim-out/autoindex.json\n";
}

class Options
{
public:
	Options(const CommandSpec &cmd, int argc, char **argv, int first)
	{
		auto add = [&](const OptionSpec &o) { values_[o.name] = o.def; };
		for (size_t i = 0; i < cmd.count; i++)
			add(cmd.options[i]);
		for (const auto &o : kCommon)
			if (!values_.count(o.name))
				add(o);
		for (int i = first; i < argc; i++) {
			std::string a = argv[i];
			if (a == "--help" || a == "-h") {
				PrintHelp(&cmd);
				exit(0);
			}
			if (a.rfind("--", 0) != 0)
				throw std::runtime_error("unexpected argument '" + a + "' (options start with --)");
			std::string key = a.substr(2), value;
			auto eq = key.find('=');
			if (eq != std::string::npos) {
				value = key.substr(eq + 1);
				key = key.substr(0, eq);
			} else if (i + 1 < argc) {
				value = argv[++i];
			} else {
				throw std::runtime_error("option --" + key + " needs a value");
			}
			if (!values_.count(key))
				throw std::runtime_error("unknown option --" + key + " for " + cmd.name + " (see crmsim " + cmd.name +
										 " --help)");
			values_[key] = value;
		}
	}
	std::string Str(const std::string &k) const { return values_.at(k); }
	bool Yes(const std::string &k) const
	{
		std::string v = values_.at(k);
		if (v == "yes" || v == "true" || v == "1" || v == "on")
			return true;
		if (v == "no" || v == "false" || v == "0" || v == "off")
			return false;
		throw std::runtime_error("--" + k + " must be yes or no");
	}
	long Int(const std::string &k, long lo, long hi) const
	{
		const std::string &v = values_.at(k);
		char *end = nullptr;
		long n = strtol(v.c_str(), &end, 10);
		if (v.empty() || *end || n < lo || n > hi)
			throw std::runtime_error("--" + k + " must be an integer from " + std::to_string(lo) + " to " +
									 std::to_string(hi) + ", not '" + v + "'");
		return n;
	}
	double Real(const std::string &k, double lo, double hi) const
	{
		const std::string &v = values_.at(k);
		char *end = nullptr;
		double d = strtod(v.c_str(), &end);
		if (v.empty() || *end || !(d >= lo && d <= hi))
			throw std::runtime_error("--" + k + " must be a number from " + std::to_string(lo) + " to " +
									 std::to_string(hi) + ", not '" + v + "'");
		return d;
	}

private:
	std::map<std::string, std::string> values_;
};

/* ---- libpq ------------------------------------------------------------------------------------------- */
struct ResultDeleter {
	void operator()(PGresult *r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

class Conn
{
public:
	explicit Conn(const std::string &dsn)
	{
		const char *keys[] = {"dbname", "application_name", "fallback_application_name", nullptr};
		const char *vals[] = {dsn.c_str(), nullptr, "crmsim", nullptr};
		conn_ = PQconnectdbParams(keys, vals, 1);
		if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
			std::string msg = conn_ ? PQerrorMessage(conn_) : "out of memory";
			PQfinish(conn_);
			throw std::runtime_error("cannot connect: " + msg);
		}
		PQclear(PQexec(conn_, "SET client_min_messages = warning"));
	}
	~Conn() { PQfinish(conn_); }
	Conn(const Conn &) = delete;
	Conn &operator=(const Conn &) = delete;
	PGconn *Get() const { return conn_; }

	/* Runs a statement with text parameters; throws on an error. */
	Result Exec(const std::string &sql, const std::vector<std::string> &params = {}) const
	{
		std::vector<const char *> values;
		for (const auto &p : params)
			values.push_back(p.c_str());
		Result r(PQexecParams(conn_, sql.c_str(), int(values.size()), nullptr, values.data(), nullptr, nullptr, 0));
		auto st = PQresultStatus(r.get());
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
			throw std::runtime_error(Trim(PQerrorMessage(conn_)) + "\n  in: " + sql.substr(0, 300));
		return r;
	}
	/* Several statements in one string, no parameters (a SQL file). */
	void ExecScript(const std::string &sql) const
	{
		Result r(PQexec(conn_, sql.c_str()));
		auto st = PQresultStatus(r.get());
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
			throw std::runtime_error(Trim(PQerrorMessage(conn_)));
	}
	std::string Value(const std::string &sql, const std::vector<std::string> &params = {}) const
	{
		Result r = Exec(sql, params);
		return PQntuples(r.get()) > 0 && !PQgetisnull(r.get(), 0, 0) ? PQgetvalue(r.get(), 0, 0) : "";
	}
	bool Bool(const std::string &sql, const std::vector<std::string> &params = {}) const
	{
		return Value(sql, params) == "t";
	}
	std::string Ident(const std::string &name) const
	{
		char *q = PQescapeIdentifier(conn_, name.c_str(), name.size());
		if (!q)
			throw std::runtime_error(PQerrorMessage(conn_));
		std::string s(q);
		PQfreemem(q);
		return s;
	}
	static std::string Trim(std::string s)
	{
		while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
			s.pop_back();
		return s;
	}

private:
	PGconn *conn_ = nullptr;
};

/* ---- progress ------------------------------------------------------------------------------------------ */
/*
 * One line of progress for a long step (a run, a wait): on a terminal redrawn in place as often as it is
 * shown; otherwise (a log) printed every 10 s. Done() ends a redrawn line.
 */
class StatusLine
{
public:
	explicit StatusLine(std::string what) : what_(std::move(what)), tty_(isatty(2)), last_(Clock::now()) {}
	void Show(const std::string &state)
	{
		if (tty_) {
			fprintf(stderr, "\r%s: %s\033[K", what_.c_str(), state.c_str());
			shown_ = true;
		} else if (Clock::now() - last_ >= std::chrono::seconds(10)) {
			last_ = Clock::now();
			fprintf(stderr, "%s: %s\n", what_.c_str(), state.c_str());
		}
	}
	void Done()
	{
		if (tty_ && shown_)
			fprintf(stderr, "\n");
		shown_ = false;
	}

private:
	std::string what_;
	bool tty_;
	bool shown_ = false;
	Clock::time_point last_;
};

class Progress
{
public:
	Progress(std::string what, uint64_t total) : what_(std::move(what)), total_(total), tty_(isatty(2))
	{
		start_ = Clock::now();
	}
	std::atomic<uint64_t> done{0};
	/* A bar redrawn in place on a terminal; a line every 10% otherwise. */
	void Show(bool final = false)
	{
		uint64_t d = done.load();
		double frac = total_ ? double(d) / double(total_) : 1.0;
		double secs = std::chrono::duration<double>(Clock::now() - start_).count();
		double rate = secs > 0 ? double(d) / secs : 0;
		if (tty_) {
			int width = 30, filled = int(frac * width);
			fprintf(stderr, "\r%s [%s%s] %3.0f%% %llu/%llu rows, %.0f rows/s   ", what_.c_str(),
					std::string(size_t(filled), '#').c_str(), std::string(size_t(width - filled), '.').c_str(),
					frac * 100, (unsigned long long)d, (unsigned long long)total_, rate);
			if (final)
				fprintf(stderr, "\n");
		} else {
			int decile = int(frac * 10);
			if (decile > last_decile_ || (final && d != last_done_)) {
				last_decile_ = decile;
				last_done_ = d;
				fprintf(stderr, "%s: %3.0f%% %llu/%llu rows, %.0f rows/s, %.1f s\n", what_.c_str(), frac * 100,
						(unsigned long long)d, (unsigned long long)total_, rate, secs);
			}
		}
	}
	double Seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

private:
	std::string what_;
	uint64_t total_;
	bool tty_;
	int last_decile_ = 0;
	uint64_t last_done_ = 0;
	Clock::time_point start_;
};

std::string
ReadFile(const std::string &path)
{
	std::ifstream f(path);
	if (!f)
		throw std::runtime_error("cannot read " + path);
	std::stringstream s;
	s << f.rdbuf();
	return s.str();
}

std::string
ProgramDir()
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n <= 0)
		return ".";
	std::string p(buf, size_t(n));
	return p.substr(0, p.rfind('/'));
}

std::string
NowIso()
{
	return sim::FormatTimestamp(int64_t(time(nullptr)));
}

/* ---- setup --------------------------------------------------------------------------------------------- */
struct CopyChunk {
	const char *table;
	const char *columns;
	uint64_t begin, end;
	std::function<void(std::string &, uint64_t)> row;
};

void
CopyWorker(const std::string &dsn, bool replica, std::vector<CopyChunk> &chunks, std::mutex &mu, size_t &next,
		   Progress &progress, std::exception_ptr &error)
{
	try {
		Conn c(dsn);
		c.Exec("SET synchronous_commit = off");
		if (replica) // the rows are consistent by construction: skip the per-row foreign-key triggers
			c.Exec("SET session_replication_role = replica");
		for (;;) {
			size_t i;
			{
				std::lock_guard<std::mutex> g(mu);
				if (error || next >= chunks.size())
					return;
				i = next++;
			}
			const CopyChunk &ch = chunks[i];
			{
				Result start(
					PQexec(c.Get(), (std::string("COPY ") + ch.table + " (" + ch.columns + ") FROM STDIN").c_str()));
				if (PQresultStatus(start.get()) != PGRES_COPY_IN)
					throw std::runtime_error(std::string("COPY ") + ch.table + ": " + PQerrorMessage(c.Get()));
			}
			std::string buf;
			uint64_t pending = 0;
			auto flush = [&]() {
				if (PQputCopyData(c.Get(), buf.data(), int(buf.size())) != 1)
					throw std::runtime_error(std::string("COPY failed: ") + PQerrorMessage(c.Get()));
				buf.clear();
				progress.done += pending;
				pending = 0;
			};
			for (uint64_t g = ch.begin; g < ch.end; g++) {
				ch.row(buf, g);
				pending++;
				if (buf.size() > (1 << 20))
					flush();
			}
			flush();
			if (PQputCopyEnd(c.Get(), nullptr) != 1)
				throw std::runtime_error(std::string("COPY failed: ") + PQerrorMessage(c.Get()));
			Result r(PQgetResult(c.Get()));
			if (PQresultStatus(r.get()) != PGRES_COMMAND_OK)
				throw std::runtime_error(std::string("COPY ") + ch.table + " failed: " + PQerrorMessage(c.Get()));
			while (PGresult *extra = PQgetResult(c.Get()))
				PQclear(extra);
		}
	} catch (...) {
		std::lock_guard<std::mutex> g(mu);
		if (!error)
			error = std::current_exception();
	}
}

int
Setup(const Options &o)
{
	sim::Scale scale;
	scale.tenants = uint32_t(o.Int("tenants", 1, 10000000));
	scale.contacts_per_tenant = uint32_t(o.Int("contacts", 1, 10000000));
	long orgs = o.Int("orgs", 0, 10000000);
	scale.orgs_per_tenant = orgs ? uint32_t(orgs) : std::max<uint32_t>(1, scale.contacts_per_tenant / 4);
	scale.interactions_per_contact = uint32_t(o.Int("interactions", 0, 1000));
	scale.custom_percent = uint32_t(o.Int("custom-percent", 0, 100));
	scale.form = sim::ParseForm(o.Str("form"));
	const bool surrogate = scale.form == sim::Form::Surrogate;
	uint64_t seed = uint64_t(o.Int("seed", 0, LONG_MAX));
	std::string dsn = o.Str("dsn");
	std::string sql_dir = o.Str("sql-dir").empty() ? ProgramDir() : o.Str("sql-dir");
	const std::string suffix = surrogate ? "_surrogate.sql" : ".sql";
	std::string schema_sql = ReadFile(sql_dir + "/crm_schema" + suffix);
	std::string register_sql = ReadFile(sql_dir + "/crm_register" + suffix);
	const sim::CopyColumns cols = sim::FormColumns(scale.form);

	Conn c(dsn);
	if (c.Bool("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'crm')")) {
		if (!o.Yes("drop"))
			throw std::runtime_error("schema crm exists already; pass --drop yes to replace it");
		std::cerr << "setup: dropping schema crm\n";
		c.Exec("DROP SCHEMA crm CASCADE");
	}
	c.ExecScript(schema_sql);
	bool super = c.Bool("SELECT rolsuper FROM pg_roles WHERE rolname = current_user");
	int jobs = super ? int(o.Int("jobs", 1, 64)) : 1;
	std::cerr << "setup: seeding the " << sim::FormName(scale.form) << " form, " << scale.tenants << " tenants, "
			  << scale.Orgs() << " organizations, " << scale.Contacts() << " contacts, " << scale.Interactions()
			  << " interactions (seed " << seed << ", " << jobs << " COPY connection" << (jobs > 1 ? "s" : "") << ")\n";

	// Tenants first (everything references them), then the other tables in chunks that connections share.
	std::vector<CopyChunk> chunks;
	chunks.push_back({"crm.tenants", cols.tenants, 1, uint64_t(scale.tenants) + 1,
					  [&](std::string &b, uint64_t g) { sim::AppendTenantRow(b, scale, seed, uint32_t(g)); }});
	const uint64_t kChunk = 200000;
	auto add = [&](const char *table, const char *cols, uint64_t n,
				   void (*fn)(std::string &, const sim::Scale &, uint64_t, uint64_t)) {
		for (uint64_t b = 0; b < n; b += kChunk)
			chunks.push_back({table, cols, b, std::min(n, b + kChunk),
							  [&scale, seed, fn](std::string &s, uint64_t g) { fn(s, scale, seed, g); }});
	};
	add("crm.organizations", cols.orgs, scale.Orgs(), sim::AppendOrgRow);
	add("crm.contacts", cols.contacts, scale.Contacts(), sim::AppendContactRow);
	add("crm.interactions", cols.interactions, scale.Interactions(), sim::AppendInteractionRow);

	Progress progress("setup: COPY", scale.TotalRows());
	std::mutex mu;
	std::exception_ptr error;
	size_t next = 0;
	// the tenants chunk alone first, so that no connection's rows wait for it
	{
		std::vector<CopyChunk> first(chunks.begin(), chunks.begin() + 1);
		size_t n0 = 0;
		CopyWorker(dsn, super, first, mu, n0, progress, error);
		if (error)
			std::rethrow_exception(error);
		next = 1;
	}
	std::vector<std::thread> threads;
	for (int i = 0; i < jobs; i++)
		threads.emplace_back(CopyWorker, std::cref(dsn), super, std::ref(chunks), std::ref(mu), std::ref(next),
							 std::ref(progress), std::ref(error));
	std::atomic<bool> finished{false};
	std::thread shower([&] {
		while (!finished) {
			progress.Show();
			std::this_thread::sleep_for(std::chrono::milliseconds(250));
		}
	});
	for (auto &t : threads)
		t.join();
	finished = true;
	shower.join();
	progress.Show(true);
	if (error)
		std::rethrow_exception(error);
	double copy_secs = progress.Seconds();
	fprintf(stderr, "setup: %llu rows in %.1f s (%.0f rows/s)\n", (unsigned long long)scale.TotalRows(), copy_secs,
			double(scale.TotalRows()) / copy_secs);

	// Explicit ids were loaded: move each identity past them, so the workload's inserts get fresh ones.
	// (the surrogate form names every identity column id)
	auto setval = [&](const char *table, const char *tenant_form_column, uint64_t last) {
		c.Exec("SELECT setval(pg_get_serial_sequence($1, $2), $3)",
			   {table, surrogate ? "id" : tenant_form_column, std::to_string(std::max<uint64_t>(1, last))});
	};
	setval("crm.tenants", "tenant_id", scale.tenants);
	setval("crm.organizations", "org_id", scale.Orgs());
	setval("crm.contacts", "contact_id", scale.Contacts());
	setval("crm.interactions", "interaction_id", scale.Interactions());

	auto t0 = Clock::now();
	std::cerr << "setup: VACUUM ANALYZE\n";
	for (const char *t : {"crm.tenants", "crm.organizations", "crm.contacts", "crm.interactions"})
		c.Exec(std::string("VACUUM (ANALYZE) ") + t);
	// a checkpoint now, rather than in the middle of the first measured run
	try {
		c.Exec("CHECKPOINT");
	} catch (const std::exception &e) {
		std::cerr << "setup: no CHECKPOINT (" << e.what() << ")\n";
	}
	fprintf(stderr, "setup: VACUUM ANALYZE and CHECKPOINT took %.1f s\n",
			std::chrono::duration<double>(Clock::now() - t0).count());

	if (c.Bool("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'indexpilot')")) {
		c.ExecScript(register_sql);
		std::string tenants = "{";
		uint32_t n = 0;
		for (uint32_t t = 1; t <= scale.tenants; t++)
			if (sim::TenantUsesCustom(t, scale.custom_percent)) {
				tenants += (n++ ? "," : "") + std::to_string(t);
			}
		tenants += "}";
		if (n)
			c.Exec("SELECT indexpilot_express_bulk('crm.contacts'::regclass, ARRAY['custom_text_1']::name[], "
				   "$1::text[])",
				   {tenants});
		std::cerr << "setup: registered the CRM with IndexPilot; " << n << " tenants express contacts.custom_text_1\n";
	} else {
		std::cerr << "setup: extension indexpilot is not installed in this database: the CRM is not registered\n";
	}
	return 0;
}

/* ---- run ------------------------------------------------------------------------------------------------- */
struct Workload {
	std::string dsn;
	sim::Scale scale;
	std::vector<uint32_t> custom_tenants;
	std::string scenario;
	int clients = 4;
	double seconds = 60;
	double rate = 0;
	bool prepared = true;
	double zipf_s = 1.1;
	uint64_t seed = 42;
	std::string phase;
	bool keep_samples = false; /* WorkloadResult::samples: every latency, for runs measured in slices */
	double shift_at = -1;      /* seconds into the run at which the shift scenario's mix changes; < 0: never */
	bool timeline = false;     /* WorkloadResult::timed: every latency with its time */
	const std::atomic<bool> *stop = nullptr; /* set: the clients stop before `seconds` have passed */
	std::string pair_dsn; /* set: every client also connects there, and all switch between the two databases */
	double switch_s = 1;  /* ... every switch_s seconds: even windows on dsn, odd ones on pair_dsn */
	std::string progress; /* what the progress line calls this phase ("" : the phase) */
};

/* The shift scenario: the pattern that stops halfway, and the one that takes its share of the statements. */
constexpr sim::PatternId kShiftStops = sim::kContactsByPhone;
constexpr sim::PatternId kShiftStarts = sim::kContactsByTitle;

/* Before the shift the pattern that starts does not run at all; after it, it has both shares. */
std::array<double, sim::kPatternCount>
ShiftWeights(bool after)
{
	auto w = sim::Mix::DefaultWeights();
	if (after) {
		w[kShiftStarts] += w[kShiftStops];
		w[kShiftStops] = 0;
	} else
		w[kShiftStarts] = 0;
	return w;
}

struct WorkloadResult {
	std::array<sim::LatencySummary, sim::kPatternCount> patterns;
	std::array<std::vector<double>, sim::kPatternCount> samples;
	std::array<uint64_t, sim::kPatternCount> errors{};
	std::vector<sim::TimedSample> timed;
	/* with a pair_dsn: the statements on pair_dsn, and statements completed per window (by its start) */
	std::array<sim::LatencySummary, sim::kPatternCount> pair_patterns;
	std::vector<uint64_t> windows;
	double seconds = 0;
	uint64_t statements = 0;
	double backend_cpu_seconds = -1; // the clients' server backends, user + system; -1: not measurable here
	std::vector<std::string> first_errors, pair_first_errors; // the first messages from each database
};

/*
 * The warm-up's figures for the run's JSON, its errors and first messages with them. A warm-up in which no
 * statement succeeded has taught IndexPilot nothing and would set the expert's warm-up length to traffic
 * that never ran: that ends the run.
 */
json
WarmupJson(const WorkloadResult &r)
{
	uint64_t errors = 0;
	for (auto e : r.errors)
		errors += e;
	if (r.statements == errors)
		throw std::runtime_error("no statement of the warm-up succeeded" +
								 (r.first_errors.empty() ? std::string() : ": " + r.first_errors.front()));
	if (errors > 0)
		std::cerr << "run: " << errors << " of the warm-up's " << r.statements << " statements failed\n";
	return {{"seconds", r.seconds}, {"statements", r.statements}, {"errors", errors}, {"first_errors", r.first_errors}};
}

/*
 * CPU seconds (user + system) a connection's server backend has used so far, from /proc/<pid>/stat; -1 when
 * that cannot be read: the server is not on this machine (only a loopback or socket connection counts), or
 * the process is not a postgres backend. What other load on a shared machine does not change much, unlike
 * throughput.
 */
double
BackendCpuSeconds(PGconn *conn)
{
	const char *host = PQhost(conn);
	std::string h = host ? host : "";
	if (!(h.empty() || h[0] == '/' || h == "localhost" || h == "127.0.0.1" || h == "::1"))
		return -1;
	std::ifstream f("/proc/" + std::to_string(PQbackendPID(conn)) + "/stat");
	std::string line;
	if (!f || !std::getline(f, line))
		return -1;
	auto open = line.find('('), close = line.rfind(')');
	if (open == std::string::npos || close == std::string::npos || line.compare(open + 1, 8, "postgres") != 0)
		return -1;
	std::istringstream rest(line.substr(close + 2));
	std::string field;
	unsigned long long utime = 0, stime = 0;
	for (int i = 3; i <= 15 && rest >> field; i++) { // fields 14 and 15 (1-based): utime, stime in clock ticks
		if (i == 14)
			utime = std::stoull(field);
		if (i == 15)
			stime = std::stoull(field);
	}
	long ticks = sysconf(_SC_CLK_TCK);
	return ticks > 0 ? double(utime + stime) / double(ticks) : -1;
}

WorkloadResult
RunWorkload(const Workload &w)
{
	const int base_clients = w.scenario == "spike" ? std::max(1, w.clients / 4) : w.clients;
	const bool shift = w.scenario == "shift";
	sim::Mix mix(!w.custom_tenants.empty(), shift ? ShiftWeights(false) : sim::Mix::DefaultWeights()),
		shifted(!w.custom_tenants.empty(), ShiftWeights(true));
	std::unique_ptr<sim::Zipf> zipf;
	if (w.scenario == "skew")
		zipf = std::make_unique<sim::Zipf>(w.scale.tenants, w.zipf_s);

	struct ClientData {
		std::array<std::vector<double>, sim::kPatternCount> samples, pair_samples;
		std::array<uint64_t, sim::kPatternCount> errors{}, pair_errors{};
		std::vector<uint64_t> windows;
		std::vector<sim::TimedSample> timed;
		std::vector<std::string> messages, pair_messages;
		double cpu_seconds = -1;
	};
	std::vector<ClientData> data(size_t(w.clients));
	std::atomic<uint64_t> done{0};
	const auto start = Clock::now();
	const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(w.seconds));
	const auto burst_from = start + (end - start) * 2 / 5, burst_to = start + (end - start) * 3 / 5;
	const auto shift_from =
		w.shift_at < 0 ? Clock::time_point::max()
					   : start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(w.shift_at));

	auto client = [&](int id) {
		ClientData &d = data[size_t(id)];
		sim::Rng rng(sim::Mix64(w.seed ^ (uint64_t(id + 1) << 20) ^ std::hash<std::string>{}(w.phase)));
		bool bursty = id >= base_clients;
		auto from = bursty ? burst_from : start, to = bursty ? burst_to : end;
		std::this_thread::sleep_until(from);
		const bool paired = !w.pair_dsn.empty();
		std::array<std::unique_ptr<Conn>, 2> conns;
		int connecting = 0; // which database a failure to connect belongs to
		try {
			for (; connecting < (paired ? 2 : 1); connecting++) {
				conns[size_t(connecting)] = std::make_unique<Conn>(connecting ? w.pair_dsn : w.dsn);
				conns[size_t(connecting)]->Exec("SET statement_timeout = '30s'");
			}
		} catch (const std::exception &e) {
			(connecting ? d.pair_messages : d.messages).push_back(e.what());
			return;
		}
		const int backend = PQbackendPID(conns[0]->Get());
		const double cpu_from = paired ? -1 : BackendCpuSeconds(conns[0]->Get());
		const double interval = w.rate > 0 ? double(w.clients) / w.rate : 0;
		std::array<std::array<bool, sim::kPatternCount>, 2> prepared{}; /* statements prepared per connection */
		auto next = Clock::now();
		while (Clock::now() < to && !(w.stop && w.stop->load())) {
			if (interval > 0) {
				next += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval));
				auto now = Clock::now();
				if (next > now)
					std::this_thread::sleep_until(next);
				else if (now - next > std::chrono::seconds(1))
					next = now; // do not build up a debt of statements after a stall
			}
			sim::PatternId p = (Clock::now() < shift_from ? mix : shifted).Pick(rng.Uniform());
			uint32_t tenant;
			if (p == sim::kContactsByCustom1)
				tenant = w.custom_tenants[rng.Below(w.custom_tenants.size())];
			else if (zipf)
				tenant = uint32_t(zipf->Sample(rng.Uniform()));
			else
				tenant = uint32_t(rng.Below(w.scale.tenants)) + 1;
			std::vector<std::string> params = sim::PatternParams(p, w.scale, tenant, rng);
			params.insert(params.begin(), std::to_string(tenant));
			std::vector<const char *> values;
			for (const auto &v : params)
				values.push_back(v.c_str());
			const std::string name = "crmsim_" + std::to_string(int(p));
			// with a pair: which database this window is on (a statement counts in the window it starts in)
			const size_t window =
				paired ? size_t(std::chrono::duration<double>(Clock::now() - start).count() / w.switch_s) : 0;
			const int side = paired ? int(window % 2) : 0;
			Conn *c = conns[size_t(side)].get();
			auto &ready = prepared[size_t(side)];
			if (w.prepared && !ready[p]) {
				// Once per connection and statement, not measured: what a driver does when it first meets it.
				PGresult *pr =
					PQprepare(c->Get(), name.c_str(), sim::PatternSql(p, w.scale.form), int(values.size()), nullptr);
				ready[p] = PQresultStatus(pr) == PGRES_COMMAND_OK;
				PQclear(pr);
			}
			auto t0 = Clock::now();
			PGresult *r = w.prepared ? PQexecPrepared(c->Get(), name.c_str(), int(values.size()), values.data(),
													  nullptr, nullptr, 0)
									 : PQexecParams(c->Get(), sim::PatternSql(p, w.scale.form), int(values.size()),
													nullptr, values.data(), nullptr, nullptr, 0);
			double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
			auto st = PQresultStatus(r);
			PQclear(r);
			if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
				if (paired) { // throughput counts what completed, not what failed
					if (d.windows.size() <= window)
						d.windows.resize(window + 1);
					d.windows[window]++;
				}
				(side ? d.pair_samples : d.samples)[p].push_back(ms);
				if (w.timeline)
					d.timed.push_back(
						{float(std::chrono::duration<double>(t0 - start).count()), uint8_t(p), float(ms)});
			} else {
				(side ? d.pair_errors : d.errors)[p]++;
				auto &messages = side ? d.pair_messages : d.messages;
				if (messages.size() < 3)
					messages.push_back(std::string(sim::kPatterns[p].name) + ": " +
									   Conn::Trim(PQerrorMessage(c->Get())));
				if (PQstatus(c->Get()) == CONNECTION_BAD) {
					PQreset(c->Get());
					ready.fill(false); // a new session has no prepared statements
				}
			}
			done++;
		}
		// a reset connection has a new backend: its CPU time is then not this client's whole share
		if (cpu_from >= 0 && PQbackendPID(conns[0]->Get()) == backend) {
			double cpu_to = BackendCpuSeconds(conns[0]->Get());
			if (cpu_to >= 0)
				d.cpu_seconds = cpu_to - cpu_from;
		}
	};
	std::vector<std::thread> threads;
	for (int i = 0; i < w.clients; i++)
		threads.emplace_back(client, i);
	std::atomic<bool> finished{false};
	std::thread shower([&] {
		StatusLine line(w.progress.empty() ? "run " + w.phase : w.progress);
		while (!finished) {
			std::this_thread::sleep_for(std::chrono::milliseconds(200));
			double s = std::chrono::duration<double>(Clock::now() - start).count();
			line.Show(sim::Fmt("%.0f", s) + "/" + sim::Fmt("%.0f", w.seconds) + " s, " +
					  sim::Fmt("%.0f", std::max(0.0, w.seconds - s)) + " s left, " + std::to_string(done.load()) +
					  " statements, " + sim::Fmt("%.0f", s > 0 ? double(done.load()) / s : 0.0) + "/s");
		}
		line.Done();
	});
	for (auto &t : threads)
		t.join();
	finished = true;
	shower.join();

	WorkloadResult res;
	res.seconds = std::chrono::duration<double>(Clock::now() - start).count();
	for (size_t p = 0; p < sim::kPatternCount; p++) {
		std::vector<double> all;
		uint64_t errors = 0;
		for (auto &d : data) {
			all.insert(all.end(), d.samples[p].begin(), d.samples[p].end());
			errors += d.errors[p];
		}
		if (w.keep_samples)
			res.samples[p] = all;
		res.errors[p] = errors;
		res.patterns[p] = sim::Summarize(std::move(all), errors);
		res.statements += res.patterns[p].count + errors;
		if (!w.pair_dsn.empty()) {
			std::vector<double> pair;
			uint64_t pair_errors = 0;
			for (auto &d : data) {
				pair.insert(pair.end(), d.pair_samples[p].begin(), d.pair_samples[p].end());
				pair_errors += d.pair_errors[p];
			}
			res.pair_patterns[p] = sim::Summarize(std::move(pair), pair_errors);
		}
	}
	for (auto &d : data) {
		if (res.windows.size() < d.windows.size())
			res.windows.resize(d.windows.size());
		for (size_t i = 0; i < d.windows.size(); i++)
			res.windows[i] += d.windows[i];
	}
	if (w.timeline) {
		for (auto &d : data)
			res.timed.insert(res.timed.end(), d.timed.begin(), d.timed.end());
		std::sort(res.timed.begin(), res.timed.end(),
				  [](const sim::TimedSample &a, const sim::TimedSample &b) { return a.t_s < b.t_s; });
	}
	for (auto &d : data) {
		for (auto &m : d.messages)
			if (res.first_errors.size() < 10)
				res.first_errors.push_back(m);
		for (auto &m : d.pair_messages)
			if (res.pair_first_errors.size() < 10)
				res.pair_first_errors.push_back(m);
	}
	res.backend_cpu_seconds = 0;
	for (auto &d : data)
		res.backend_cpu_seconds =
			d.cpu_seconds < 0 || res.backend_cpu_seconds < 0 ? -1 : res.backend_cpu_seconds + d.cpu_seconds;
	return res;
}

/* The schema of a function callable with `required` arguments (0: none), or "" when there is none. */
std::string
FunctionSchema(const Conn &c, const std::string &name, int required = 0)
{
	return c.Value("SELECT n.nspname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
				   "WHERE p.proname = $1 AND p.pronargs - p.pronargdefaults <= $2 AND p.pronargs >= $2 "
				   "ORDER BY 1 LIMIT 1",
				   {name, std::to_string(required)});
}

json
Indexes(const Conn &c)
{
	Result r = c.Exec("SELECT i.tablename, i.indexname, i.indexdef, x.indisprimary, x.indisvalid, "
					  "pg_relation_size(ic.oid) "
					  "FROM pg_indexes i "
					  "JOIN pg_namespace n ON n.nspname = i.schemaname "
					  "JOIN pg_class ic ON ic.relnamespace = n.oid AND ic.relname = i.indexname "
					  "JOIN pg_index x ON x.indexrelid = ic.oid "
					  "WHERE i.schemaname = 'crm' ORDER BY 1, 2");
	json list = json::array();
	for (int i = 0; i < PQntuples(r.get()); i++)
		list.push_back({{"table", std::string("crm.") + PQgetvalue(r.get(), i, 0)},
						{"name", PQgetvalue(r.get(), i, 1)},
						{"definition", PQgetvalue(r.get(), i, 2)},
						{"primary", std::string(PQgetvalue(r.get(), i, 3)) == "t"},
						{"valid", std::string(PQgetvalue(r.get(), i, 4)) == "t"},
						{"size_bytes", std::stoll(PQgetvalue(r.get(), i, 5))}});
	return list;
}

/*
 * The database's block reads so far (pg_stat_database: of every backend of it, the worker's too): blocks read
 * from outside shared buffers, blocks found in them, and the time the reads took in ms (0 unless
 * track_io_timing is on, as in the simulator's cluster). A backend reports its counts when idle or at exit,
 * so a reading after a run waits a moment for the clients' backends to have gone.
 */
json
BlockReads(const std::string &dsn)
{
	Conn c(dsn);
	return json::parse(c.Value("SELECT json_build_object('blocks_read', blks_read, 'blocks_hit', blks_hit, 'read_ms', "
							   "blk_read_time, 'track_io_timing', current_setting('track_io_timing'))::text FROM "
							   "pg_stat_database WHERE datname = current_database()"));
}

int64_t
MaxMutationId(const Conn &c)
{
	std::string v = c.Value("SELECT coalesce(max(id), 0) FROM indexpilot.mutation_log");
	return v.empty() ? 0 : std::stoll(v);
}

json
Mutations(const Conn &c, int64_t after_id)
{
	Result r = c.Exec("SELECT row_to_json(m)::text FROM indexpilot.mutation_log m WHERE m.id > $1 ORDER BY m.id",
					  {std::to_string(after_id)});
	json list = json::array();
	for (int i = 0; i < PQntuples(r.get()); i++)
		list.push_back(json::parse(PQgetvalue(r.get(), i, 0)));
	return list;
}

/* Counts what the decision machinery has done since the run began: build mutations and new indexes. */
int64_t
BuildsSince(const Conn &c, int64_t after_id, size_t indexes_before)
{
	int64_t builds = std::stoll(c.Value("SELECT count(*) FROM indexpilot.mutation_log WHERE id > $1 AND "
										"kind = 'index_build_finished'",
										{std::to_string(after_id)}));
	int64_t extra = int64_t(Indexes(c).size()) - int64_t(indexes_before);
	return std::max(builds, extra);
}

/* Switches IndexPilot's decisions off (baseline) or on (autoindex) as far as this installation can. Returns
 * a description and fills `restore` with what to run afterwards. */
std::string
SetDecisions(const Conn &c, bool on, std::vector<std::string> &restore)
{
	std::string fn = on ? "indexpilot_enable_system" : "indexpilot_disable_system";
	std::string schema = FunctionSchema(c, fn);
	if (!schema.empty()) {
		c.Exec("SELECT " + c.Ident(schema) + "." + c.Ident(fn) + "()");
		if (!on) {
			std::string en = FunctionSchema(c, "indexpilot_enable_system");
			if (!en.empty())
				restore.push_back("SELECT " + c.Ident(en) + ".indexpilot_enable_system()");
		}
		return fn + "()";
	}
	std::string mode = c.Value("SELECT setting FROM pg_settings WHERE name = 'indexpilot.mode'");
	std::string want = on ? "auto" : "off";
	if (!mode.empty()) {
		if (mode == want)
			return "indexpilot.mode is already " + want;
		try {
			c.Exec("ALTER SYSTEM SET indexpilot.mode = '" + want + "'");
			c.Exec("SELECT pg_reload_conf()");
			std::this_thread::sleep_for(std::chrono::milliseconds(1500));
			restore.push_back("ALTER SYSTEM RESET indexpilot.mode");
			restore.push_back("SELECT pg_reload_conf()");
			return "indexpilot.mode set to " + want + " (was " + mode + ") for the run";
		} catch (const std::exception &e) {
			return "indexpilot.mode is " + mode + " and could not be set to " + want + ": " + e.what();
		}
	}
	return on ? "nothing to switch on: this IndexPilot has neither indexpilot_enable_system() nor indexpilot.mode"
			  : "none needed: this IndexPilot has no decision machinery yet (neither indexpilot_disable_system() "
				"nor indexpilot.mode exists), so the run only measures the server with capture";
}

/*
 * Waits for the background worker to decide and build: until something was built and nothing more for
 * `quiet` seconds (and no build is running), or wait_seconds have passed.
 */
json
WaitForWorker(const Conn &c, int64_t start_id, size_t indexes_before, double wait_seconds, double quiet,
			  bool show = true)
{
	json d;
	d["method"] = "waited_for_worker";
	auto t0 = Clock::now();
	auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
	int64_t built = 0, stable_since_builds = -1;
	auto stable_from = Clock::now();
	StatusLine line("run: waiting for the worker");
	while (elapsed() < wait_seconds) {
		std::this_thread::sleep_for(std::chrono::seconds(2));
		built = BuildsSince(c, start_id, indexes_before);
		const bool running = c.Bool("SELECT EXISTS (SELECT 1 FROM pg_stat_progress_create_index WHERE datname = "
									"current_database())");
		if (built != stable_since_builds || running) {
			stable_since_builds = built;
			stable_from = Clock::now();
		} else if (built > 0 && Clock::now() - stable_from > std::chrono::duration<double>(quiet)) {
			break; // something was built and nothing more for `quiet` seconds
		}
		if (show)
			line.Show(sim::Fmt("%.0f", elapsed()) + " s, at most " + sim::Fmt("%.0f", wait_seconds - elapsed()) +
					  " s left, " + std::to_string(built) + " index build(s) so far" +
					  (running ? ", one running" : ""));
	}
	line.Done();
	d["summary"] = "waited " + std::to_string(int(elapsed())) + " s (at most " + std::to_string(int(wait_seconds)) +
				   " s) for the background worker, which made " + std::to_string(built) + " index build(s)";
	return d;
}

json
Decide(const Conn &c, int64_t start_id, size_t indexes_before, double wait_seconds)
{
	json d;
	auto t0 = Clock::now();
	auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
	std::string schema = FunctionSchema(c, "indexpilot_run_now");
	if (!schema.empty()) {
		d["method"] = "indexpilot_run_now";
		json calls = json::array();
		int64_t built = -1;
		// One build runs at a time: call, let the build it started finish, call again, until no candidate is
		// chosen any more (everything worth building exists) or a dozen cycles have passed.
		for (int cycle = 1; cycle <= 12; cycle++) {
			std::string out =
				c.Value("SELECT string_agg(index_name || ': ' || verdict || coalesce(' / ' || action, ''), "
						"'; ') FROM " +
						c.Ident(schema) + ".indexpilot_run_now()");
			int64_t chosen = std::stoll(c.Value("SELECT count(*) FROM indexpilot.mutation_log WHERE id > $1 AND "
												"kind = 'index_build_started'",
												{std::to_string(start_id)}));
			auto w0 = Clock::now();
			while (c.Bool("SELECT EXISTS (SELECT 1 FROM " + c.Ident(schema) +
						  ".indexpilot_worker_status() WHERE role = 'builder')") &&
				   Clock::now() - w0 < std::chrono::minutes(5))
				std::this_thread::sleep_for(std::chrono::milliseconds(200));
			built = BuildsSince(c, start_id, indexes_before);
			calls.push_back(
				{{"cycle", cycle}, {"returned", out}, {"builds_started_so_far", chosen}, {"builds_so_far", built}});
			if (out.find(": chosen") == std::string::npos)
				break; // nothing left that is worth building: IndexPilot has decided
		}
		d["calls"] = calls;
		d["summary"] = "called indexpilot_run_now() " + std::to_string(calls.size()) + " time(s); " +
					   std::to_string(std::max<int64_t>(built, 0)) + " index build(s) since the run began";
	} else {
		d = WaitForWorker(c, start_id, indexes_before, wait_seconds, 10);
		d["summary"] = "indexpilot_run_now() does not exist in this installation; " + d["summary"].get<std::string>();
	}
	// builds still in progress finish before the measured run
	auto w0 = Clock::now();
	while (c.Bool("SELECT EXISTS (SELECT 1 FROM pg_stat_progress_create_index WHERE datname = current_database())") &&
		   Clock::now() - w0 < std::chrono::minutes(5))
		std::this_thread::sleep_for(std::chrono::seconds(1));
	d["seconds"] = elapsed();
	return d;
}

/* Puts back what a run changed on the server (the statements in `list`, in order), once: when told, or when
 * the run ends by an exception. Failures are reported, not thrown. */
class RestoreGuard
{
public:
	RestoreGuard(const Conn &c, const std::vector<std::string> &list) : c_(c), list_(list) {}
	~RestoreGuard() { Now(); }
	RestoreGuard(const RestoreGuard &) = delete;
	RestoreGuard &operator=(const RestoreGuard &) = delete;
	void Now()
	{
		if (done_)
			return;
		done_ = true;
		for (const auto &s : list_) {
			try {
				c_.Exec(s);
			} catch (const std::exception &e) {
				std::cerr << "run: could not put back what the run changed (" << s << "): " << e.what() << "\n";
			}
		}
	}
	void Keep() { done_ = true; } // crmsim alternate puts it back after its measured run

private:
	const Conn &c_;
	const std::vector<std::string> &list_;
	bool done_ = false;
};

/*
 * --decide worker: sets each indexpilot.<name> of spec ("name=value,...") with ALTER SYSTEM and reloads;
 * `restore` gets what puts back the values ALTER SYSTEM had before (or resets them). Returns the settings.
 */
json
ApplyWorkerSettings(const Conn &c, const std::string &spec, std::vector<std::string> &restore)
{
	json applied = json::object();
	std::istringstream in(spec);
	for (std::string item; std::getline(in, item, ',');) {
		if (item.empty())
			continue;
		auto eq = item.find('=');
		if (eq == std::string::npos || eq == 0)
			throw std::runtime_error("--worker-settings: '" + item + "' is not name=value");
		const std::string name = "indexpilot." + item.substr(0, eq), value = item.substr(eq + 1);
		if (!c.Bool("SELECT EXISTS (SELECT 1 FROM pg_settings WHERE name = $1)", {name}))
			throw std::runtime_error("--worker-settings: this server has no setting " + name);
		std::string before = c.Value("SELECT setting FROM pg_file_settings WHERE name = $1 AND applied AND "
									 "sourcefile LIKE '%postgresql.auto.conf' ORDER BY seqno DESC LIMIT 1",
									 {name});
		if (!applied.contains(name)) // given twice: put back to what it was before the first
			restore.push_back(before.empty() ? c.Value("SELECT format('ALTER SYSTEM RESET %I', $1::text)", {name})
											 : c.Value("SELECT format('ALTER SYSTEM SET %I = %L', $1::text, $2::text)",
													   {name, before}));
		c.Exec(c.Value("SELECT format('ALTER SYSTEM SET %I = %L', $1::text, $2::text)", {name, value}));
		applied[name] = value;
	}
	if (!applied.empty()) {
		c.Exec("SELECT pg_reload_conf()");
		restore.push_back("SELECT pg_reload_conf()");
		std::this_thread::sleep_for(std::chrono::milliseconds(1500)); // the workers read it at their next wake-up
	}
	return applied;
}

/* IndexPilot's lineage rows about indexes after `after_id`, each at its time in seconds after `t0` (epoch). */
json
TimelineEvents(const Conn &c, int64_t after_id, double t0)
{
	Result r = c.Exec("SELECT m.id, m.kind, coalesce(m.target_table, ''), coalesce(m.target_index, ''), "
					  "m.details::text, m.parent_id, extract(epoch FROM m.occurred_at)::float8 - $2::float8 "
					  "FROM indexpilot.mutation_log m WHERE m.id > $1 AND m.kind LIKE 'index%' "
					  "AND m.kind <> 'index_skipped' ORDER BY m.id",
					  {std::to_string(after_id), sim::Fmt("%.6f", t0)});
	json list = json::array();
	for (int i = 0; i < PQntuples(r.get()); i++)
		list.push_back(
			{{"id", std::stoll(PQgetvalue(r.get(), i, 0))},
			 {"kind", PQgetvalue(r.get(), i, 1)},
			 {"table", PQgetvalue(r.get(), i, 2)},
			 {"index", PQgetvalue(r.get(), i, 3)},
			 {"details", json::parse(PQgetvalue(r.get(), i, 4))},
			 {"parent_id", PQgetisnull(r.get(), i, 5) ? json() : json(std::stoll(PQgetvalue(r.get(), i, 5)))},
			 {"t_s", std::round(std::stod(PQgetvalue(r.get(), i, 6)) * 10) / 10}});
	return list;
}

json ReadJson(const std::string &path);

/* The index names a plan (EXPLAIN's JSON "Plan" node) reads, in order, each once. */
void
PlanIndexes(const json &node, std::vector<std::string> &out)
{
	if (node.contains("Index Name")) {
		std::string name = node["Index Name"].get<std::string>();
		if (std::find(out.begin(), out.end(), name) == out.end())
			out.push_back(name);
	}
	for (const auto &child : node.value("Plans", json::array()))
		PlanIndexes(child, out);
}

/*
 * The planner's cost of every read pattern with one fixed set of values (EXPLAIN, nothing executed): the
 * middle tenant (custom_text_1: the middle one of the tenants that use it), and the pattern's other values
 * drawn with a fixed seed. The same data gives the same values in every run, so the costs of two index sets
 * compare on this machine and any other. Returns [{pattern, class, values, cost, indexes}].
 */
json
PlanCosts(const Conn &c, const Workload &w)
{
	json list = json::array();
	for (size_t p = 0; p < sim::kPatternCount; p++) {
		const sim::Pattern &pat = sim::kPatterns[p];
		if (pat.cls == sim::PatternClass::Write)
			continue;
		uint32_t tenant = w.scale.tenants / 2 + 1;
		if (p == sim::kContactsByCustom1) {
			if (w.custom_tenants.empty())
				continue;
			tenant = w.custom_tenants[w.custom_tenants.size() / 2];
		}
		sim::Rng rng(sim::Mix64(7919 + p));
		std::vector<std::string> params = sim::PatternParams(sim::PatternId(p), w.scale, tenant, rng);
		params.insert(params.begin(), std::to_string(tenant));
		json plan = json::parse(
			c.Value(std::string("EXPLAIN (FORMAT JSON) ") + sim::PatternSql(sim::PatternId(p), w.scale.form), params));
		std::vector<std::string> indexes;
		PlanIndexes(plan.at(0).at("Plan"), indexes);
		list.push_back({{"pattern", pat.name},
						{"class", sim::ClassName(pat.cls)},
						{"values", params},
						{"cost", plan.at(0).at("Plan").at("Total Cost").get<double>()},
						{"indexes", indexes}});
	}
	return list;
}

int
Run(const Options &o)
{
	const std::string mode = o.Str("mode");
	if (mode != "baseline" && mode != "expert" && mode != "autoindex")
		throw std::runtime_error("--mode must be baseline, expert or autoindex");
	Workload w;
	w.dsn = o.Str("dsn");
	w.scenario = o.Str("scenario");
	if (w.scenario != "steady" && w.scenario != "spike" && w.scenario != "skew" && w.scenario != "shift")
		throw std::runtime_error("--scenario must be steady, spike, skew or shift");
	std::string decide = o.Str("decide").empty() ? (w.scenario == "shift" ? "worker" : "run_now") : o.Str("decide");
	if (decide != "run_now" && decide != "worker")
		throw std::runtime_error("--decide must be run_now or worker");
	const bool by_worker = mode == "autoindex" && decide == "worker";
	const std::string worker_spec =
		o.Str("worker-settings") != "default" ? o.Str("worker-settings")
		: w.scenario == "shift"
			? "flush_interval=5s,advise_interval=10s,naptime=1s,validate_window=30s,retire_after=1min,stats_window=1min"
			: "flush_interval=5s,advise_interval=10s,naptime=1s,validate_window=30s";
	const double window = o.Real("window", 1, 3600);
	w.clients = int(o.Int("clients", 1, 1000));
	w.seconds = o.Real("duration", 0, 86400);
	w.rate = o.Real("rate", 0, 1e7);
	if (o.Str("protocol") != "prepared" && o.Str("protocol") != "unnamed")
		throw std::runtime_error("--protocol must be prepared or unnamed");
	w.prepared = o.Str("protocol") == "prepared";
	w.zipf_s = o.Real("zipf", 0.01, 10);
	w.seed = uint64_t(o.Int("seed", 0, LONG_MAX));
	double warmup = o.Real("warmup", 0, 86400);
	if (!o.Str("warmup-like").empty()) {
		json like = ReadJson(o.Str("warmup-like"));
		if (!like.contains("warmup") || !like["warmup"].contains("seconds"))
			throw std::runtime_error(o.Str("warmup-like") + ": the run recorded no warm-up");
		warmup = like["warmup"]["seconds"].get<double>();
	}
	const double decide_wait = o.Real("decide-wait", 0, 86400);
	const double decide_quiet = o.Real("decide-quiet", 0, 86400);
	const std::string out = o.Str("out").empty() ? mode + ".json" : o.Str("out");

	Conn c(w.dsn);
	if (!c.Bool("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'crm')"))
		throw std::runtime_error("schema crm does not exist: run crmsim setup first");
	uint64_t tenants = std::stoull(c.Value("SELECT count(*) FROM crm.tenants"));
	uint64_t contacts = std::stoull(c.Value("SELECT count(*) FROM crm.contacts"));
	uint64_t orgs = std::stoull(c.Value("SELECT count(*) FROM crm.organizations"));
	uint64_t interactions = std::stoull(c.Value("SELECT count(*) FROM crm.interactions"));
	if (tenants == 0 || contacts % tenants || orgs % tenants)
		throw std::runtime_error("schema crm does not hold the data crmsim setup makes (rows per tenant differ)");
	w.scale.tenants = uint32_t(tenants);
	w.scale.contacts_per_tenant = uint32_t(contacts / tenants);
	w.scale.orgs_per_tenant = uint32_t(orgs / tenants);
	w.scale.interactions_per_contact = 0; // not needed by the workload
	// The form is the schema's: the surrogate form has no contacts.contact_id (its key is id).
	w.scale.form = c.Bool("SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'crm.contacts'::regclass AND "
						  "attname = 'contact_id' AND NOT attisdropped)")
					   ? sim::Form::Tenant
					   : sim::Form::Surrogate;
	const bool checkpoint = o.Yes("checkpoint");
	const std::string indexes_sql = o.Str("indexes").empty() ? "" : ReadFile(o.Str("indexes"));
	if (!indexes_sql.empty() && mode != "expert")
		throw std::runtime_error("--indexes is for --mode expert");

	json ip;
	bool installed = c.Bool("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'indexpilot')");
	ip["installed"] = installed;
	bool registered = false;
	if (installed) {
		std::string vs = FunctionSchema(c, "indexpilot_version");
		ip["version"] = vs.empty() ? "" : c.Value("SELECT " + c.Ident(vs) + ".indexpilot_version()");
		registered = c.Bool("SELECT EXISTS (SELECT 1 FROM indexpilot.genome_tables WHERE relid = "
							"'crm.contacts'::regclass)");
		json fns;
		for (const char *f : {"indexpilot_run_now", "indexpilot_disable_system", "indexpilot_enable_system",
							  "indexpilot_recommendations"})
			fns[f] = !FunctionSchema(c, f).empty();
		fns["indexpilot_lineage"] = !FunctionSchema(c, "indexpilot_lineage", 1).empty();
		ip["functions"] = fns;
		ip["mode_setting"] = c.Value("SELECT setting FROM pg_settings WHERE name = 'indexpilot.mode'");
	}
	ip["crm_registered"] = registered;

	// Which tenants use custom_text_1: IndexPilot's expression profiles when it knows the CRM.
	std::string custom_source;
	if (registered) {
		Result r = c.Exec("SELECT tenant FROM indexpilot.effective_expression WHERE relid = 'crm.contacts'::regclass "
						  "AND column_name = 'custom_text_1'");
		bool core = false;
		for (int i = 0; i < PQntuples(r.get()); i++) {
			if (PQgetisnull(r.get(), i, 0))
				core = true;
			else
				w.custom_tenants.push_back(uint32_t(std::stoul(PQgetvalue(r.get(), i, 0))));
		}
		if (core) {
			w.custom_tenants.clear();
			for (uint32_t t = 1; t <= w.scale.tenants; t++)
				w.custom_tenants.push_back(t);
		}
		custom_source = core ? "core field (every tenant)" : "indexpilot.effective_expression";
	} else {
		uint32_t pct = uint32_t(o.Int("custom-percent", 0, 100));
		for (uint32_t t = 1; t <= w.scale.tenants; t++)
			if (sim::TenantUsesCustom(t, pct))
				w.custom_tenants.push_back(t);
		custom_source = "the seeding rule (IndexPilot does not know the CRM)";
	}
	std::sort(w.custom_tenants.begin(), w.custom_tenants.end());

	json meta = {{"label", mode},
				 {"mode", mode},
				 {"form", sim::FormName(w.scale.form)},
				 {"scenario", w.scenario},
				 {"decide", mode == "autoindex" ? decide : ""},
				 {"clients", w.clients},
				 {"duration_s", w.seconds},
				 {"warmup_s", warmup},
				 {"rate", w.rate},
				 {"protocol", w.prepared ? "prepared" : "unnamed"},
				 {"zipf_s", w.zipf_s},
				 {"seed", w.seed},
				 {"tenants", tenants},
				 {"contacts", contacts},
				 {"organizations", orgs},
				 {"interactions", interactions},
				 {"custom_text_1_tenants", w.custom_tenants.size()},
				 {"custom_text_1_source", custom_source},
				 {"server_version", c.Value("SHOW server_version")},
				 {"shared_buffers", c.Value("SHOW shared_buffers")},
				 {"started_at", NowIso()}};

	std::vector<std::string> restore;
	RestoreGuard put_back(c, restore);
	json worker_settings = json::object();
	int64_t start_id = installed ? MaxMutationId(c) : 0;
	json indexes_at_start = Indexes(c);
	json extra;
	if (mode == "baseline" || mode == "expert") {
		ip["bypass"] = installed ? SetDecisions(c, false, restore) : "IndexPilot is not installed";
		size_t secondary = 0;
		for (const auto &i : indexes_at_start)
			secondary += i["primary"].get<bool>() ? 0 : 1;
		if (secondary && mode == "baseline")
			std::cerr << "run: warning: schema crm already has " << secondary
					  << " secondary index(es): this baseline does not show the CRM without indexes\n";
	} else if (by_worker && installed && w.scenario == "shift") {
		// IndexPilot starts from nothing when the measured run does: the warm-up only warms the caches.
		ip["warmup_bypass"] = SetDecisions(c, false, restore);
	} else if (by_worker && installed) {
		// The worker decides and builds during the warm-up and the wait after it; then the measured run.
		worker_settings = ApplyWorkerSettings(c, worker_spec, restore);
		ip["enable"] = SetDecisions(c, true, restore);
	} else {
		ip["enable"] = installed ? SetDecisions(c, true, restore) : "IndexPilot is not installed";
	}
	// The worker alone decides and builds while the traffic goes on: the warm-up, then until nothing has
	// been built for --decide-quiet s (at most --decide-wait s more). Its timeline, from the first statement, shows how
	// the latencies converge as the indexes arrive.
	const bool learning = by_worker && installed && w.scenario != "shift";
	if (learning) {
		std::atomic<bool> stop{false};
		Workload lw = w;
		lw.seconds = warmup + decide_wait;
		lw.phase = "warmup";
		lw.timeline = true;
		lw.stop = &stop;
		lw.progress = "run: warm-up, then until the worker has built nothing for " + sim::Fmt("%.0f", decide_quiet) +
					  " s (at most)";
		const double t0 = std::stod(c.Value("SELECT extract(epoch FROM clock_timestamp())::float8"));
		WorkloadResult lr;
		std::exception_ptr failed;
		std::thread traffic([&] {
			try {
				lr = RunWorkload(lw);
			} catch (...) {
				failed = std::current_exception();
			}
		});
		try {
			std::this_thread::sleep_for(std::chrono::duration<double>(warmup));
			ip["decide"] = WaitForWorker(c, start_id, indexes_at_start.size(), decide_wait, decide_quiet, false);
		} catch (...) {
			stop = true;
			traffic.join();
			throw;
		}
		stop = true;
		traffic.join();
		if (failed)
			std::rethrow_exception(failed);
		ip["decide"]["method"] = "worker";
		ip["decide"]["settings"] = worker_settings;
		ip["decide"]["summary"] = "the background worker alone (no indexpilot_run_now()), while the traffic went on: " +
								  sim::Fmt("%.0f", warmup) + " s of warm-up, then " +
								  ip["decide"]["summary"].get<std::string>();
		std::cerr << "run: " << ip["decide"]["summary"].get<std::string>() << "\n";
		extra["warmup"] = WarmupJson(lr);
		extra["timeline"] = {{"window_s", window},
							 {"duration_s", lr.seconds},
							 {"axis", "seconds since the first statement (IndexPilot learns, decides and builds)"},
							 {"series", sim::TimelineSeries(lr.timed, window, lr.seconds)},
							 {"events", TimelineEvents(c, start_id, t0)},
							 {"worker_settings", worker_settings}};
	}
	// Both runs measure warm caches: the same warm-up traffic precedes each measured run.
	if (warmup > 0 && !learning) {
		std::cerr << "run: warm-up, " << sim::Fmt("%.0f", warmup) << " s\n";
		Workload ww = w;
		ww.seconds = warmup;
		ww.phase = "warmup";
		WorkloadResult wr = RunWorkload(ww);
		extra["warmup"] = WarmupJson(wr);
	}
	if (!indexes_sql.empty()) {
		// at the point where IndexPilot builds its own: both sets start the measured run equally fresh
		auto t0 = Clock::now();
		{
			// on a connection of its own, while this one shows which index is being built and how far
			std::exception_ptr failed;
			std::atomic<bool> finished{false};
			std::thread build([&] {
				try {
					Conn b(w.dsn);
					b.ExecScript(indexes_sql);
				} catch (...) {
					failed = std::current_exception();
				}
				finished = true;
			});
			// what is left: the indexes of the file not built yet, and how far the one being built is (a
			// plain CREATE INDEX shows its table, not the index, in pg_stat_progress_create_index)
			std::string lower = indexes_sql;
			std::transform(lower.begin(), lower.end(), lower.begin(),
						   [](unsigned char ch) { return std::tolower(ch); });
			size_t total = 0;
			for (size_t at = lower.find("create index"); at != std::string::npos;
				 at = lower.find("create index", at + 1))
				total++;
			StatusLine line("run: the expert's indexes");
			while (!finished) {
				std::this_thread::sleep_for(std::chrono::milliseconds(500));
				std::string state;
				try {
					const long built = std::stol(c.Value("SELECT count(*) FROM pg_indexes WHERE schemaname = 'crm'")) -
									   long(indexes_at_start.size());
					state = c.Value("SELECT format('%s, %s%% of its blocks', p.relid::regclass, CASE WHEN "
									"p.blocks_total > 0 THEN 100 * p.blocks_done / p.blocks_total ELSE 0 END) "
									"FROM pg_stat_progress_create_index p WHERE p.datname = current_database() "
									"LIMIT 1");
					state = "index " + std::to_string(built + 1) + " of " + std::to_string(total) +
							(state.empty() ? "" : ", on " + state);
				} catch (const std::exception &) {
				}
				line.Show(sim::Fmt("%.0f", std::chrono::duration<double>(Clock::now() - t0).count()) + " s" +
						  (state.empty() ? "" : ", building " + state));
			}
			line.Done();
			build.join();
			if (failed)
				std::rethrow_exception(failed);
		}
		double secs = std::chrono::duration<double>(Clock::now() - t0).count();
		extra["expert_indexes"] = {{"file", o.Str("indexes")}, {"seconds", secs}};
		fprintf(stderr, "run: the expert's indexes (%s) built in %.1f s\n", o.Str("indexes").c_str(), secs);
	}
	if (by_worker && installed && w.scenario == "shift") {
		worker_settings = ApplyWorkerSettings(c, worker_spec, restore);
		ip["enable"] = SetDecisions(c, true, restore);
		ip["decide"] = {{"method", "worker"},
						{"settings", worker_settings},
						{"summary", "the background worker alone decided, built, validated and retired during the "
									"measured run (no indexpilot_run_now())"}};
	} else if (mode == "autoindex" && !learning) {
		if (installed) {
			std::cerr << "run: IndexPilot decides and builds\n";
			ip["decide"] = Decide(c, start_id, indexes_at_start.size(), decide_wait);
			std::cerr << "run: " << ip["decide"]["summary"].get<std::string>() << "\n";
		}
	}

	if (w.seconds > 0)
		std::cerr << "run: " << mode << ", scenario " << w.scenario << ", " << w.clients << " clients, " << w.seconds
				  << " s\n";
	if (checkpoint) {
		try {
			c.Exec("CHECKPOINT");
		} catch (const std::exception &e) {
			std::cerr << "run: no CHECKPOINT (" << e.what() << ")\n";
		}
	}
	// what the measured run starts with: the autoindex run's builds are done, the expert's indexes exist
	extra["indexes_before_measured"] = Indexes(c);
	extra["plan_costs"] = PlanCosts(c, w);
	w.phase = "measured";
	if (w.scenario == "shift")
		w.shift_at = w.seconds / 2;
	w.timeline = w.scenario == "shift";
	const int64_t measured_id = installed ? MaxMutationId(c) : 0;
	const double server_t0 = std::stod(c.Value("SELECT extract(epoch FROM clock_timestamp())::float8"));
	WorkloadResult res;
	try {
		if (w.seconds > 0)
			res = RunWorkload(w);
		else
			res.backend_cpu_seconds = -1;
	} catch (...) {
		put_back.Now();
		throw;
	}
	// Without a measured run the switches stay as the run set them until crmsim alternate has measured it.
	if (w.seconds > 0)
		put_back.Now();
	else
		put_back.Keep();
	if (w.timeline) {
		json tl = {{"window_s", window},
				   {"series", sim::TimelineSeries(res.timed, window, w.seconds)},
				   {"events", installed ? TimelineEvents(c, measured_id, server_t0) : json::array()},
				   {"worker_settings", worker_settings}};
		if (w.shift_at >= 0) {
			// the pattern that starts, second by second: its index may come within seconds of the shift
			std::vector<sim::TimedSample> started;
			for (const auto &t : res.timed)
				if (t.pattern == kShiftStarts)
					started.push_back(t);
			tl["started_per_second"] =
				sim::TimelineSeries(started, 1, w.seconds).value(sim::kPatterns[kShiftStarts].name, json::array());
		}
		if (w.shift_at >= 0)
			tl["shift"] = {{"at_s", w.shift_at},
						   {"stopped", sim::kPatterns[kShiftStops].name},
						   {"started", sim::kPatterns[kShiftStarts].name},
						   {"stopped_field", sim::kPatterns[kShiftStops].field},
						   {"started_field", sim::kPatterns[kShiftStarts].field},
						   {"table", sim::kPatterns[kShiftStops].table}};
		extra["timeline"] = tl;
	}
	meta["finished_at"] = NowIso();

	json j = sim::RunJson(meta, res.patterns, res.seconds);
	if (res.backend_cpu_seconds >= 0) {
		j["backend_cpu_s"] = res.backend_cpu_seconds;
		j["backend_cpu_us_per_statement"] =
			res.statements ? res.backend_cpu_seconds * 1e6 / double(res.statements) : 0.0;
	}
	for (auto it = extra.begin(); it != extra.end(); ++it)
		j[it.key()] = it.value();
	j["first_errors"] = res.first_errors;
	// What crmsim alternate needs to run this workload again and to read what changed in its measured run.
	j["workload"] = {{"custom_tenants", w.custom_tenants}, {"mutations_after", start_id}, {"checkpoint", checkpoint}};
	if (w.seconds == 0)
		j["workload"]["restore"] = restore;
	j["indexes"] = Indexes(c);
	j["mutations"] = installed ? Mutations(c, start_id) : json::array();
	json lineage = json::object();
	std::string lin = installed ? FunctionSchema(c, "indexpilot_lineage", 1) : "";
	if (!lin.empty())
		for (const auto &i : j["indexes"]) {
			if (i["primary"].get<bool>())
				continue;
			std::string rows =
				c.Value("SELECT coalesce(json_agg(row_to_json(l) ORDER BY l.id), '[]')::text FROM " + c.Ident(lin) +
							".indexpilot_lineage(to_regclass('crm.' || quote_ident($1))) l",
						{i["name"].get<std::string>()});
			lineage[i["name"].get<std::string>()] = json::parse(rows.empty() ? "[]" : rows);
		}
	j["lineage"] = lineage;
	std::string rec = installed ? FunctionSchema(c, "indexpilot_recommendations") : "";
	if (rec.empty())
		j["recommendations"] = {{"available", false},
								{"reason", installed ? "indexpilot_recommendations() does not exist in this "
													   "installation (it comes with the cost model)"
													 : "IndexPilot is not installed"}};
	else {
		try {
			std::string rows = c.Value("SELECT coalesce(json_agg(row_to_json(r)), '[]')::text FROM " + c.Ident(rec) +
									   ".indexpilot_recommendations() r");
			j["recommendations"] = {{"available", true}, {"rows", json::parse(rows.empty() ? "[]" : rows)}};
		} catch (const std::exception &e) {
			j["recommendations"] = {{"available", false},
									{"reason", std::string("indexpilot_recommendations() failed: ") + e.what()}};
		}
	}
	if (installed) {
		// the capture store: its counters (entries, evictions, ...) and the shared memory it holds
		try {
			j["capture"] = {
				{"counters", json::parse(c.Value("SELECT row_to_json(k)::text FROM indexpilot.capture_counters k"))},
				// from the store's header to the next named allocation after its statement texts: the two
				// hash tables' entries are allocated right after their (named) headers, unnamed
				{"shared_memory_bytes",
				 std::stoll(c.Value("WITH a AS (SELECT name, off FROM pg_shmem_allocations WHERE off IS NOT NULL) "
									"SELECT coalesce((SELECT min(off) FROM a WHERE off > (SELECT off FROM a WHERE name "
									"= 'indexpilot queries')) - (SELECT off FROM a WHERE name = 'indexpilot capture'), "
									"-1)"))}};
		} catch (const std::exception &e) {
			j["capture"] = {{"error", e.what()}};
		}
	}
	j["indexpilot"] = ip;

	std::ofstream f(out);
	if (!f)
		throw std::runtime_error("cannot write " + out);
	f << j.dump(1) << "\n";
	f.close();
	if (!f)
		throw std::runtime_error("cannot write " + out);
	if (w.seconds > 0)
		fprintf(stderr, "run: %llu statements in %.1f s (%.0f/s), %llu errors; wrote %s\n",
				(unsigned long long)j["total_statements"].get<uint64_t>(), res.seconds,
				j["throughput_per_s"].get<double>(), (unsigned long long)j["total_errors"].get<uint64_t>(),
				out.c_str());
	else
		fprintf(stderr, "run: prepared, no measured run (--duration 0: crmsim alternate measures it); wrote %s\n",
				out.c_str());
	for (const auto &e : res.first_errors)
		std::cerr << "run: error: " << e << "\n";
	return 0;
}

/* ---- alternate -------------------------------------------------------------------------------------------- */

/*
 * The measured runs of two databases prepared alike (crmsim run --duration 0: the same data, warm-up and
 * clients, each its own index set), in slices that alternate between them: slice k runs the same statements
 * (the same seed and phase) on both, the first database first when k is even, the other first when it is
 * odd, so that what the machine does meanwhile falls on both alike; each slice is preceded by two seconds
 * (at most the slice) of the same traffic, not measured, on its database, so that each starts from its own
 * working set in shared buffers whichever database ran before it. Each database's JSON gets the measured
 * run of its slices together (latencies of all slices, statements over their time) and the slices
 * themselves; the pair ratios (first over other, per slice) go into both. With --interleave, every client
 * holds a connection to each and all switch between them every --interleave s: the statements are drawn
 * from one stream per client, each falling on whichever database that moment belongs to, and pair k is the
 * k-th of --slices groups of those stretches.
 */
int
Alternate(const Options &o)
{
	struct Arm {
		std::string dsn, in, out;
		json j;
		Workload w;
		WorkloadResult all;
		double seconds = 0, cpu = 0;
		json slices = json::array();
		json io; // --interleave: the database's block reads during the measured run (BlockReads' difference)
		std::array<sim::LatencySummary, sim::kPatternCount> pair_summary; // --interleave: the other database's
		bool has_pair_summary = false;
	};
	std::array<Arm, 2> arms;
	arms[0].dsn = o.Str("dsn");
	arms[1].dsn = o.Str("pair-dsn");
	arms[0].in = o.Str("in");
	arms[1].in = o.Str("pair-in");
	arms[0].out = o.Str("out").empty() ? arms[0].in : o.Str("out");
	arms[1].out = o.Str("pair-out").empty() ? arms[1].in : o.Str("pair-out");
	const int clients = int(o.Int("clients", 1, 1000));
	const double seconds = o.Real("duration", 0.1, 86400);
	const int slices = int(o.Int("slices", 1, 1000));
	const double rate = o.Real("rate", -1, 1e7);
	const double interleave = o.Real("interleave", 0, 3600);
	for (auto &a : arms) {
		if (a.in.empty() || arms[1].dsn.empty())
			throw std::runtime_error("--pair-dsn, --in and --pair-in are required");
		a.j = ReadJson(a.in);
		const json &m = a.j.at("meta");
		if (!a.j.contains("workload") || m.at("duration_s").get<double>() != 0)
			throw std::runtime_error(a.in + ": not from crmsim run --duration 0");
		Workload &w = a.w;
		w.dsn = a.dsn;
		w.scenario = m.at("scenario").get<std::string>();
		if (w.scenario != "steady")
			throw std::runtime_error(a.in + ": alternate measures the steady scenario only");
		w.clients = clients;
		w.rate = rate >= 0 ? rate : m.at("rate").get<double>();
		w.prepared = m.at("protocol").get<std::string>() == "prepared";
		w.zipf_s = m.at("zipf_s").get<double>();
		w.seed = m.at("seed").get<uint64_t>();
		w.scale.form = sim::ParseForm(m.at("form").get<std::string>());
		w.scale.tenants = uint32_t(m.at("tenants").get<uint64_t>());
		w.scale.contacts_per_tenant = uint32_t(m.at("contacts").get<uint64_t>() / w.scale.tenants);
		w.scale.orgs_per_tenant = uint32_t(m.at("organizations").get<uint64_t>() / w.scale.tenants);
		w.custom_tenants = a.j["workload"]["custom_tenants"].get<std::vector<uint32_t>>();
		w.keep_samples = true;
	}
	const json &m0 = arms[0].j["meta"], &m1 = arms[1].j["meta"];
	for (const char *k : {"form", "tenants", "contacts", "organizations", "seed", "protocol", "rate"})
		if (m0.at(k) != m1.at(k))
			throw std::runtime_error(std::string("the two runs differ in ") + k + ": not the same workload");
	if (arms[0].w.custom_tenants != arms[1].w.custom_tenants)
		throw std::runtime_error("the two runs use custom_text_1 in different tenants: not the same workload");
	if (o.Yes("checkpoint"))
		for (auto &a : arms)
			Conn(a.dsn).Exec("CHECKPOINT");
	json pairs = json::array();
	if (interleave > 0) {
		// Both databases in one run, every client switching between them: window i on the first database
		// when i is even, on the other when odd; pair k is the k-th of `slices` groups of windows, its
		// ratio the first database's statements over the other's in that group.
		const size_t per_pair = std::max<size_t>(2, size_t(std::llround(2 * seconds / interleave / slices)) / 2 * 2);
		Workload w = arms[0].w;
		w.pair_dsn = arms[1].dsn;
		w.switch_s = interleave;
		w.seconds = double(per_pair * size_t(slices)) * interleave;
		w.phase = "interleaved";
		w.keep_samples = true;
		w.progress = "alternate: both databases, switching every " + sim::Fmt("%g", interleave) + " s";
		{
			Workload warm = w; // both databases' working sets, not measured
			warm.seconds = std::min(4.0, w.seconds);
			warm.phase = "interleaved-rewarm";
			warm.keep_samples = false;
			warm.progress = w.progress + ", warming";
			(void)RunWorkload(warm);
		}
		std::array<json, 2> io_from = {BlockReads(arms[0].dsn), BlockReads(arms[1].dsn)};
		WorkloadResult r = RunWorkload(w);
		std::this_thread::sleep_for(std::chrono::milliseconds(1500)); // the clients' backends report at exit
		for (size_t i = 0; i < 2; i++) {
			json to = BlockReads(arms[i].dsn);
			arms[i].io = {{"blocks_read", to["blocks_read"].get<int64_t>() - io_from[i]["blocks_read"].get<int64_t>()},
						  {"blocks_hit", to["blocks_hit"].get<int64_t>() - io_from[i]["blocks_hit"].get<int64_t>()},
						  {"read_ms", to["read_ms"].get<double>() - io_from[i]["read_ms"].get<double>()},
						  {"track_io_timing", to["track_io_timing"]}};
		}
		r.windows.resize(per_pair * size_t(slices));
		for (int k = 0; k < slices; k++) {
			std::array<uint64_t, 2> n{};
			for (size_t i = size_t(k) * per_pair; i < size_t(k + 1) * per_pair; i++)
				n[i % 2] += r.windows[i];
			const double secs = double(per_pair / 2) * interleave;
			const double ratio = n[1] ? double(n[0]) / double(n[1]) : 0;
			pairs.push_back(ratio);
			for (int i = 0; i < 2; i++)
				arms[size_t(i)].slices.push_back({{"slice", k},
												  {"statements", n[size_t(i)]},
												  {"seconds", secs},
												  {"throughput_per_s", double(n[size_t(i)]) / secs},
												  {"windows", per_pair / 2}});
			fprintf(stderr, "alternate: pair %d/%d: %.0f/s and %.0f/s, ratio %.3f\n", k + 1, slices,
					double(n[0]) / secs, double(n[1]) / secs, ratio);
		}
		for (int i = 0; i < 2; i++) {
			Arm &a = arms[size_t(i)];
			uint64_t total = 0;
			for (size_t win = size_t(i); win < r.windows.size(); win += 2)
				total += r.windows[win];
			a.all.statements = total;
			a.seconds = double(r.windows.size() / 2) * interleave;
			a.cpu = -1;
		}
		// latencies: the first database's samples are r.samples; the other's summaries are r.pair_patterns
		for (size_t p = 0; p < sim::kPatternCount; p++) {
			arms[0].all.samples[p] = std::move(r.samples[p]);
			arms[0].all.errors[p] = r.errors[p];
		}
		arms[1].pair_summary = r.pair_patterns;
		arms[1].has_pair_summary = true;
		arms[0].all.first_errors = r.first_errors;
		arms[1].all.first_errors = r.pair_first_errors;
	}
	for (int k = 0; k < slices && interleave == 0; k++) {
		std::array<double, 2> rate{};
		for (int n = 0; n < 2; n++) {
			const int i = k % 2 == 0 ? n : 1 - n;
			Arm &a = arms[size_t(i)];
			// Both databases do not fit in shared buffers together: a short unmeasured run first, so that
			// every slice starts from this database's own working set, whichever ran before it.
			Workload warm = a.w;
			warm.seconds = std::min(2.0, seconds / slices);
			warm.keep_samples = false;
			warm.phase = "rewarm-" + std::to_string(k);
			warm.progress = "alternate: slice " + std::to_string(k + 1) + "/" + std::to_string(slices) + ", " +
							(i == 0 ? "first" : "other") + " database, re-warming";
			(void)RunWorkload(warm);
			Workload w = a.w;
			w.seconds = seconds / slices;
			w.phase = "measured-" + std::to_string(k);
			w.progress = "alternate: slice " + std::to_string(k + 1) + "/" + std::to_string(slices) + ", " +
						 (i == 0 ? "first" : "other") + " database";
			WorkloadResult r = RunWorkload(w);
			for (size_t p = 0; p < sim::kPatternCount; p++) {
				a.all.samples[p].insert(a.all.samples[p].end(), r.samples[p].begin(), r.samples[p].end());
				a.all.errors[p] += r.errors[p];
			}
			a.all.statements += r.statements;
			for (const auto &e : r.first_errors)
				if (a.all.first_errors.size() < 10)
					a.all.first_errors.push_back(e);
			a.seconds += r.seconds;
			a.cpu = a.cpu < 0 || r.backend_cpu_seconds < 0 ? -1 : a.cpu + r.backend_cpu_seconds;
			rate[size_t(i)] = r.seconds > 0 ? double(r.statements) / r.seconds : 0;
			a.slices.push_back({{"slice", k},
								{"statements", r.statements},
								{"seconds", r.seconds},
								{"throughput_per_s", rate[size_t(i)]},
								{"order", n + 1}});
		}
		const double ratio = rate[1] > 0 ? rate[0] / rate[1] : 0;
		pairs.push_back(ratio);
		fprintf(stderr, "alternate: slice %d/%d: %.0f/s and %.0f/s, ratio %.3f\n", k + 1, slices, rate[0], rate[1],
				ratio);
	}
	for (auto &a : arms) {
		std::array<sim::LatencySummary, sim::kPatternCount> patterns;
		for (size_t p = 0; p < sim::kPatternCount; p++)
			patterns[p] =
				a.has_pair_summary ? a.pair_summary[p] : sim::Summarize(std::move(a.all.samples[p]), a.all.errors[p]);
		json meta = a.j["meta"];
		meta["duration_s"] = seconds;
		meta["clients"] = clients;
		meta["rate"] = a.w.rate;
		meta["interleave_s"] = interleave;
		meta["finished_at"] = NowIso();
		json measured = sim::RunJson(meta, patterns, a.seconds);
		for (auto it = measured.begin(); it != measured.end(); ++it)
			a.j[it.key()] = it.value();
		if (a.cpu >= 0) {
			a.j["backend_cpu_s"] = a.cpu;
			a.j["backend_cpu_us_per_statement"] = a.all.statements ? a.cpu * 1e6 / double(a.all.statements) : 0.0;
		}
		a.j["first_errors"] = a.all.first_errors;
		a.j["slices"] = a.slices;
		if (!a.io.is_null()) {
			a.j["io"] = a.io;
			a.j["pair_io"] = (&a == &arms[0] ? arms[1] : arms[0]).io;
		}
		a.j["pair_throughput_ratios"] = pairs;
		// What the measured run changed: IndexPilot's worker stays on in its database.
		Conn c(a.dsn);
		for (const auto &r : a.j["workload"].value("restore", json::array()))
			c.Exec(r.get<std::string>());
		a.j["workload"].erase("restore");
		a.j["indexes"] = Indexes(c);
		if (a.j["indexpilot"].value("installed", false))
			a.j["mutations"] = Mutations(c, a.j["workload"]["mutations_after"].get<int64_t>());
		std::ofstream f(a.out);
		f << a.j.dump(1) << "\n";
		f.close();
		if (!f)
			throw std::runtime_error("cannot write " + a.out);
		fprintf(stderr, "alternate: %s: %llu statements in %.1f s (%.0f/s); wrote %s\n", a.dsn.c_str(),
				(unsigned long long)a.all.statements, a.seconds, a.seconds > 0 ? a.all.statements / a.seconds : 0.0,
				a.out.c_str());
	}
	return 0;
}

/* ---- report ---------------------------------------------------------------------------------------------- */
json
ReadJson(const std::string &path)
{
	try {
		return json::parse(ReadFile(path));
	} catch (const json::exception &e) {
		throw std::runtime_error(path + ": not a run JSON file: " + e.what());
	}
}

void
WriteFile(const std::string &path, const std::string &content)
{
	std::ofstream f(path);
	f << content;
	f.close();
	if (!f)
		throw std::runtime_error("cannot write " + path);
}

int
Report(const Options &o)
{
	json before = ReadJson(o.Str("baseline")), after = ReadJson(o.Str("autoindex"));
	json expert = o.Str("expert").empty() ? json() : ReadJson(o.Str("expert"));
	json throughput = o.Str("throughput").empty() ? json() : ReadJson(o.Str("throughput"));
	std::string dir = o.Str("out-dir");
	auto criteria = sim::EvaluateCriteria(before, after, expert, throughput);
	WriteFile(dir + "/report.md", sim::ReportMarkdown(before, after, criteria, expert, throughput));
	WriteFile(dir + "/report.html", sim::ReportHtml(before, after, criteria, expert, throughput));
	WriteFile(dir + "/" + sim::kLatencySvgName, sim::LatencyDistributionSvg(before, after));
	WriteFile(dir + "/" + sim::kP95SvgName, sim::P95PerPatternSvg(before, after));
	WriteFile(dir + "/" + sim::kConvergenceSvgName, sim::TimelineSvg(after));
	std::cout << "Before (baseline) and after (autoindex), latency per pattern:\n\n"
			  << sim::PatternTableMarkdown(before, after) << "\n"
			  << "report: " << dir << "/report.md, " << dir << "/report.html, " << dir << "/" << sim::kLatencySvgName
			  << ", " << dir << "/" << sim::kP95SvgName << ", " << dir << "/" << sim::kConvergenceSvgName << "\n\n"
			  << sim::CriteriaText(criteria);
	bool all = true;
	for (const auto &c : criteria)
		all = all && c.met;
	return !all && o.Yes("strict") ? 2 : 0;
}

/* ---- timeline --------------------------------------------------------------------------------------------- */
int
Timeline(const Options &o)
{
	json run = ReadJson(o.Str("run"));
	if (!run.contains("timeline"))
		throw std::runtime_error(o.Str("run") + ": the run recorded no timeline (crmsim run --scenario shift)");
	const std::string dir = o.Str("out-dir");
	auto criteria = sim::ShiftCriteria(run);
	WriteFile(dir + "/timeline.md", sim::TimelineMarkdown(run, criteria));
	WriteFile(dir + "/timeline.html", sim::TimelineHtml(run, criteria));
	WriteFile(dir + "/" + sim::kTimelineSvgName, sim::TimelineSvg(run));
	std::cout << "Each index's life (seconds since the measured run began):\n\n";
	for (const auto &l : sim::IndexLifetimes(run["timeline"].value("events", json::array()))) {
		auto t = [&](const char *k) {
			return l[k].is_number() ? sim::Fmt("%.0f", l[k].get<double>()) : std::string("-");
		};
		std::cout << "  " << l.value("index", "") << " " << l.value("columns", "") << ": proposed " << t("proposed_s")
				  << ", built " << t("built_s") << ", validated " << t("validated_s") << ", reverted "
				  << t("reverted_s") << ", retired " << t("retired_s")
				  << (l.value("reason", "").empty() ? "" : " (" + l.value("reason", "") + ")") << "\n";
	}
	std::cout << "\nreport: " << dir << "/timeline.md, " << dir << "/timeline.html, " << dir << "/"
			  << sim::kTimelineSvgName << "\n\n"
			  << sim::CriteriaText(criteria);
	bool all = true;
	for (const auto &c : criteria)
		all = all && c.met;
	return !all && o.Yes("strict") ? 2 : 0;
}

/* ---- bench-report ---------------------------------------------------------------------------------------- */
int
BenchReport(const Options &o)
{
	const std::string dir = o.Str("dir");
	if (dir.empty())
		throw std::runtime_error("--dir is required");
	std::vector<sim::Repetition> reps;
	for (int n = 1;; n++) {
		const std::string rep = dir + "/rep-" + std::to_string(n);
		if (access((rep + "/indexpilot.json").c_str(), R_OK) != 0 || access((rep + "/expert.json").c_str(), R_OK) != 0)
			break;
		reps.push_back(sim::CompareRepetition(n, ReadJson(rep + "/indexpilot.json"), ReadJson(rep + "/expert.json")));
	}
	if (reps.empty())
		throw std::runtime_error(dir + " holds no repetition (rep-1/indexpilot.json and rep-1/expert.json)");
	const std::string text = sim::BenchTable(o.Str("title").empty() ? dir : o.Str("title"), reps);
	WriteFile(dir + "/summary.txt", text);
	std::cout << text;
	return 0;
}

} // namespace

int
main(int argc, char **argv)
{
	if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ||
		std::string(argv[1]) == "help") {
		PrintHelp(nullptr);
		return argc < 2 ? 1 : 0;
	}
	const CommandSpec *cmd = nullptr;
	for (const auto &c : kCommands)
		if (argv[1] == std::string(c.name))
			cmd = &c;
	if (!cmd) {
		std::cerr << "crmsim: unknown command '" << argv[1] << "' (try crmsim --help)\n";
		return 1;
	}
	try {
		Options o(*cmd, argc, argv, 2);
		if (cmd->name == std::string("setup"))
			return Setup(o);
		if (cmd->name == std::string("run"))
			return Run(o);
		if (cmd->name == std::string("alternate"))
			return Alternate(o);
		if (cmd->name == std::string("bench-report"))
			return BenchReport(o);
		if (cmd->name == std::string("timeline"))
			return Timeline(o);
		return Report(o);
	} catch (const std::exception &e) {
		std::cerr << "crmsim " << cmd->name << ": " << e.what() << "\n";
		return 1;
	}
}
