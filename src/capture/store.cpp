/*
 * capture/store.cpp — the shared-memory store (see capture/store.hpp for the locking rules).
 *
 * Plain C-style code: it runs inside executor hooks, throws nothing, and uses HASH_ENTER_NULL so a full
 * hash table is an ordinary "dropped" count rather than an ERROR. Eviction allocates a temporary array in
 * the caller's memory context; callers in hooks guard it (capture/hooks.cpp).
 */
#include "indexpilot/capture/store.hpp"

#include "indexpilot/control/state.hpp"
#include "indexpilot/pg/shmem.hpp"

extern "C" {
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"
}

#include <cstring>

namespace indexpilot::capture
{

static int s_max_tracked = 5000;
static int s_max_queries = 1000;
static int s_max_tenants_per_shape = 16;

/* The part of shared memory the store owns (plain data). */
struct StoreHeader {
	LWLock *lock;
	pg_atomic_uint64 evictions;
	pg_atomic_uint64 query_evictions;
	pg_atomic_uint64 dropped;
	pg_atomic_uint64 internal_errors;
	pg_atomic_uint64 statements_sampled;
	pg_atomic_uint64 text_generation;  /* bumped when texts are evicted or reset; never goes back */
	pg_atomic_uint64 entry_generation; /* bumped when shapes or statements are evicted or reset */
	TimestampTz reset_at;
};

static StoreHeader *s_header = nullptr;
static HTAB *s_shapes = nullptr;
static HTAB *s_queries = nullptr;

static constexpr double kUsageDecay = 0.99;
static constexpr double kEvictFraction = 0.05;
static constexpr int kEvictMinimum = 10;

void
DefineStoreGucs()
{
	if (process_shared_preload_libraries_in_progress) {
		DefineCustomIntVariable("indexpilot.max_tracked", "Maximum number of predicate shapes kept in shared memory.",
								nullptr, &s_max_tracked, 5000, 100, 1000000, PGC_POSTMASTER, 0, nullptr, nullptr,
								nullptr);
		DefineCustomIntVariable("indexpilot.max_queries",
								"Maximum number of representative statement texts kept in shared memory.", nullptr,
								&s_max_queries, 1000, 10, 100000, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
	}
	DefineCustomIntVariable("indexpilot.max_tenants_per_shape",
							"Tenants kept apart per captured shape; the others are aggregated.", nullptr,
							&s_max_tenants_per_shape, 16, 0, 1000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
}

static Size
StoreSize()
{
	Size size = MAXALIGN(sizeof(StoreHeader));
	size = add_size(size, hash_estimate_size(s_max_tracked, sizeof(ShapeEntry)));
	size = add_size(size, hash_estimate_size(s_max_queries, sizeof(QueryEntry)));
	return size;
}

static void
StoreInit(LWLockPadded *locks)
{
	bool found = false;
	auto *header = static_cast<StoreHeader *>(ShmemInitStruct("indexpilot capture", sizeof(StoreHeader), &found));
	if (!found) {
		memset(header, 0, sizeof(StoreHeader));
		header->lock = &locks[0].lock;
		pg_atomic_init_u64(&header->evictions, 0);
		pg_atomic_init_u64(&header->query_evictions, 0);
		pg_atomic_init_u64(&header->dropped, 0);
		pg_atomic_init_u64(&header->internal_errors, 0);
		pg_atomic_init_u64(&header->statements_sampled, 0);
		pg_atomic_init_u64(&header->text_generation, 1);
		pg_atomic_init_u64(&header->entry_generation, 1);
		header->reset_at = GetCurrentTimestamp();
	}
	HASHCTL info;
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(ShapeKey);
	info.entrysize = sizeof(ShapeEntry);
	s_shapes = ShmemInitHash("indexpilot shapes", s_max_tracked, s_max_tracked, &info, HASH_ELEM | HASH_BLOBS);
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(QueryKey);
	info.entrysize = sizeof(QueryEntry);
	s_queries = ShmemInitHash("indexpilot queries", s_max_queries, s_max_queries, &info, HASH_ELEM | HASH_BLOBS);
	s_header = header;
}

/* The store's part of the server log's status line (control/state.hpp). */
static void
StatusDetail(char *buf, size_t size) noexcept
{
	if (s_header == nullptr)
		return;
	StoreCounters c;
	StoreReadCounters(&c);
	snprintf(buf, size, "; capture entries=" INT64_FORMAT " evictions=" UINT64_FORMAT " internal_errors=" UINT64_FORMAT,
			 c.entries, c.evictions, c.internal_errors);
}

void
RequestStore()
{
	pg::ShmemAddPart(pg::ShmemPart{"indexpilot capture", StoreSize, 1, StoreInit});
	control::SetStatusDetail(StatusDetail);
}

bool
StoreAvailable()
{
	return s_header != nullptr;
}

/* The key of the aggregated entry for the tenants of `key` that are not kept apart. */
static ShapeKey
OtherKey(const ShapeKey &key)
{
	ShapeKey other = key;
	other.tenant = 0;
	other.tenant_kind = static_cast<uint8>(TenantKind::Other);
	return other;
}

static bool
IsTenantEntry(const ShapeKey &key)
{
	return key.tenant_kind == static_cast<uint8>(TenantKind::Int) ||
		   key.tenant_kind == static_cast<uint8>(TenantKind::Text);
}

/* qsort order of entries by usage, least used first. */
template <typename Entry>
static int
CompareUsage(const void *a, const void *b)
{
	double ua = (*static_cast<Entry *const *>(a))->usage;
	double ub = (*static_cast<Entry *const *>(b))->usage;
	return ua < ub ? -1 : (ua > ub ? 1 : 0);
}

/*
 * Decays every entry's usage and removes the least-used 5% (at least 10) of those `evictable` accepts,
 * calling `before_remove` on each first; counts them in `counter`. Caller holds the lock exclusively.
 * The temporary array comes from the caller's memory context.
 */
template <typename Entry, typename Evictable, typename BeforeRemove>
static void
EvictLeastUsed(HTAB *table, pg_atomic_uint64 *counter, Evictable evictable, BeforeRemove before_remove)
{
	long n = hash_get_num_entries(table);
	// Caller holds the store's LWLock: an out-of-memory ERROR here would leave it held. No memory, no
	// eviction (the insert that needed room is then counted as dropped).
	auto **entries =
		static_cast<Entry **>(palloc_extended(Max(n, 1L) * sizeof(Entry *), MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM));
	if (entries == nullptr)
		return;
	long candidates = 0;
	HASH_SEQ_STATUS seq;
	hash_seq_init(&seq, table);
	Entry *entry;
	while ((entry = static_cast<Entry *>(hash_seq_search(&seq))) != nullptr) {
		entry->usage *= kUsageDecay;
		if (evictable(*entry))
			entries[candidates++] = entry;
	}
	qsort(entries, candidates, sizeof(Entry *), CompareUsage<Entry>);
	long victims = Min(Max(static_cast<long>(n * kEvictFraction), static_cast<long>(kEvictMinimum)), candidates);
	for (long i = 0; i < victims; i++) {
		auto key = entries[i]->key; /* a copy: the entry goes away */
		before_remove(key);
		hash_search(table, &key, HASH_REMOVE, nullptr);
	}
	pg_atomic_fetch_add_u64(counter, victims);
	pfree(entries);
}

/* Removes the least-used shapes. Caller holds the lock exclusively. */
static void
EvictShapes()
{
	EvictLeastUsed<ShapeEntry>(
		s_shapes, &s_header->evictions,
		// An aggregate that still counts kept-apart tenants stays: evicting it would lose the bound. Counters
		// a flush took stay until it ends: they go back to the entry if it rolls back.
		[](const ShapeEntry &e) {
			return !(e.key.tenant_kind == static_cast<uint8>(TenantKind::Other) && e.ntenants > 0) &&
				   e.inflight.calls == 0;
		},
		[](const ShapeKey &key) {
			if (!IsTenantEntry(key))
				return;
			ShapeKey other = OtherKey(key);
			auto *agg = static_cast<ShapeEntry *>(hash_search(s_shapes, &other, HASH_FIND, nullptr));
			if (agg != nullptr && agg->ntenants > 0)
				agg->ntenants--;
		});
	pg_atomic_fetch_add_u64(&s_header->entry_generation, 1);
}

/* Finds or creates an entry for `key`. Caller holds the lock exclusively. May return nullptr (dropped). */
static ShapeEntry *
EnterShape(const ShapeKey &key, const char *tenant_text, TimestampTz now)
{
	bool found = false;
	auto *entry = static_cast<ShapeEntry *>(hash_search(s_shapes, &key, HASH_FIND, nullptr));
	if (entry != nullptr)
		return entry;
	if (hash_get_num_entries(s_shapes) >= s_max_tracked)
		EvictShapes();
	entry = static_cast<ShapeEntry *>(hash_search(s_shapes, &key, HASH_ENTER_NULL, &found));
	if (entry == nullptr)
		return nullptr;
	if (!found) {
		memset(reinterpret_cast<char *>(entry) + sizeof(ShapeKey), 0, sizeof(ShapeEntry) - sizeof(ShapeKey));
		SpinLockInit(&entry->mutex);
		entry->counters.first_seen = now;
		entry->usage = 1.0;
		if (tenant_text != nullptr)
			strlcpy(entry->tenant_text, tenant_text, kTenantTextBytes);
	}
	return entry;
}

/* Where a new observation goes: its own entry, or the tenants' aggregate when too many are kept apart. */
static ShapeEntry *
InsertShape(const Observation &obs, TimestampTz now)
{
	if (!IsTenantEntry(obs.key))
		return EnterShape(obs.key, nullptr, now);

	auto *entry = static_cast<ShapeEntry *>(hash_search(s_shapes, &obs.key, HASH_FIND, nullptr));
	if (entry != nullptr)
		return entry;
	ShapeKey other = OtherKey(obs.key);
	ShapeEntry *agg = EnterShape(other, nullptr, now);
	if (agg == nullptr)
		return nullptr;
	if (agg->ntenants >= s_max_tenants_per_shape)
		return agg;
	// Pin the aggregate while inserting: eviction must not remove it under us.
	agg->ntenants++;
	char digits[kTenantTextBytes];
	const char *text = obs.tenant_text;
	if (obs.key.tenant_kind == static_cast<uint8>(TenantKind::Int)) {
		snprintf(digits, sizeof(digits), INT64_FORMAT, obs.key.tenant);
		text = digits;
	}
	entry = EnterShape(obs.key, text, now);
	agg = static_cast<ShapeEntry *>(hash_search(s_shapes, &other, HASH_FIND, nullptr));
	if (entry == nullptr) {
		if (agg != nullptr)
			agg->ntenants--;
		return agg;
	}
	return entry;
}

static void
Accumulate(ShapeEntry *entry, const Observation &obs, TimestampTz now)
{
	SpinLockAcquire(&entry->mutex);
	ShapeCounters &c = entry->counters;
	if (c.calls == 0)
		c.first_seen = now; /* new, or the first call since a flush took the others */
	c.calls++;
	c.estimated_calls += obs.weight > 0 ? obs.weight : 1.0;
	c.access_calls[static_cast<int>(obs.access) & 3]++;
	if (obs.cancelled) {
		c.cancelled_calls++;
		c.cancelled_ms += obs.elapsed_ms;
	}
	if (obs.instrumented) {
		c.instrumented_calls++;
		c.rows_scanned += obs.rows_scanned;
		c.rows_returned += obs.rows_returned;
	}
	c.total_ms += obs.elapsed_ms;
	if (obs.elapsed_ms > c.max_ms)
		c.max_ms = obs.elapsed_ms;
	c.last_seen = now;
	entry->usage += 1.0;
	if (obs.queryid != 0)
		entry->queryid = obs.queryid;
	SpinLockRelease(&entry->mutex);
}

/* The key of the counters of (dbid, queryid). */
static ShapeKey
StatementKey(Oid dbid, uint64 queryid)
{
	ShapeKey key;
	memset(&key, 0, sizeof(key));
	key.dbid = dbid;
	key.queryid = queryid;
	key.shape_kind = static_cast<uint8>(ShapeKind::Statement);
	return key;
}

static void
AccumulateStatement(ShapeEntry *entry, const StatementCounts &add, TimestampTz now)
{
	SpinLockAcquire(&entry->mutex);
	ShapeCounters &c = entry->counters;
	if (c.calls == 0)
		c.first_seen = now;
	c.calls += add.calls;
	c.estimated_calls += static_cast<double>(add.calls);
	c.sampled_calls += add.sampled_calls;
	c.cancelled_calls += add.cancelled_calls;
	c.cancelled_ms += add.cancelled_ms;
	c.total_ms += add.total_ms;
	if (add.max_ms > c.max_ms)
		c.max_ms = add.max_ms;
	c.last_seen = now;
	entry->last_ms = add.last_ms;
	entry->usage += static_cast<double>(add.calls);
	entry->queryid = add.queryid;
	SpinLockRelease(&entry->mutex);
}

void
StoreRecordStatement(const Observation *const *obs, int n, Oid dbid, uint64 queryid, double text_usage, TimestampTz now,
					 const StatementCounts *counts, int ncounts)
{
	if (s_header == nullptr || (n <= 0 && ncounts <= 0))
		return;
	n = Max(Min(n, kMaxStatementObservations), 0);
	ncounts = Max(Min(ncounts, kMaxPendingCounts), 0);
	int missing[kMaxStatementObservations];
	int nmissing = 0;
	int missing_counts[kMaxPendingCounts];
	int nmissing_counts = 0;
	LWLockAcquire(s_header->lock, LW_SHARED);
	for (int i = 0; i < ncounts; i++) {
		const ShapeKey key = StatementKey(dbid, counts[i].queryid);
		auto *entry = static_cast<ShapeEntry *>(hash_search(s_shapes, &key, HASH_FIND, nullptr));
		if (entry != nullptr)
			AccumulateStatement(entry, counts[i], now);
		else
			missing_counts[nmissing_counts++] = i;
	}
	for (int i = 0; i < n; i++) {
		auto *entry = static_cast<ShapeEntry *>(hash_search(s_shapes, &obs[i]->key, HASH_FIND, nullptr));
		if (entry == nullptr && IsTenantEntry(obs[i]->key)) {
			// A tenant not kept apart goes to the aggregate; once that is full, no insert is needed.
			// ntenants only changes under the exclusive lock, so it is stable while we hold the shared one.
			ShapeKey other = OtherKey(obs[i]->key);
			auto *agg = static_cast<ShapeEntry *>(hash_search(s_shapes, &other, HASH_FIND, nullptr));
			if (agg != nullptr && agg->ntenants >= s_max_tenants_per_shape)
				entry = agg;
		}
		if (entry != nullptr)
			Accumulate(entry, *obs[i], now);
		else
			missing[nmissing++] = i;
	}
	if (queryid != 0) {
		QueryKey key;
		memset(&key, 0, sizeof(key));
		key.dbid = dbid;
		key.queryid = queryid;
		auto *query = static_cast<QueryEntry *>(hash_search(s_queries, &key, HASH_FIND, nullptr));
		if (query != nullptr) {
			// Benign race: two backends may both bump usage; it only steers eviction.
			query->usage += text_usage;
			query->last_seen = now;
		}
	}
	LWLockRelease(s_header->lock);
	if (nmissing == 0 && nmissing_counts == 0)
		return;

	LWLockAcquire(s_header->lock, LW_EXCLUSIVE);
	for (int i = 0; i < nmissing_counts; i++) {
		const StatementCounts &add = counts[missing_counts[i]];
		ShapeEntry *entry = EnterShape(StatementKey(dbid, add.queryid), nullptr, now);
		if (entry != nullptr)
			AccumulateStatement(entry, add, now);
		else
			pg_atomic_fetch_add_u64(&s_header->dropped, 1);
	}
	for (int i = 0; i < nmissing; i++) {
		const Observation &o = *obs[missing[i]];
		ShapeEntry *entry = InsertShape(o, now);
		if (entry != nullptr)
			Accumulate(entry, o, now);
		else
			pg_atomic_fetch_add_u64(&s_header->dropped, 1);
	}
	LWLockRelease(s_header->lock);
}

bool
StoreStatementLastMs(Oid dbid, uint64 queryid, double *last_ms)
{
	*last_ms = 0;
	if (s_header == nullptr || queryid == 0)
		return false;
	const ShapeKey key = StatementKey(dbid, queryid);
	LWLockAcquire(s_header->lock, LW_SHARED);
	auto *entry = static_cast<ShapeEntry *>(hash_search(s_shapes, &key, HASH_FIND, nullptr));
	if (entry != nullptr) {
		SpinLockAcquire(&entry->mutex);
		*last_ms = entry->last_ms;
		SpinLockRelease(&entry->mutex);
	}
	LWLockRelease(s_header->lock);
	return entry != nullptr;
}

uint64
StoreEntryGeneration()
{
	return s_header != nullptr ? pg_atomic_read_u64(&s_header->entry_generation) : 0;
}

/* Removes the least-used statement texts. Caller holds the lock exclusively. */
static void
EvictQueries()
{
	EvictLeastUsed<QueryEntry>(
		s_queries, &s_header->query_evictions, [](const QueryEntry &) { return true; }, [](const QueryKey &) {});
	pg_atomic_fetch_add_u64(&s_header->text_generation, 1);
}

uint64
StoreTextGeneration()
{
	return s_header != nullptr ? pg_atomic_read_u64(&s_header->text_generation) : 0;
}

bool
StoreRememberQuery(Oid dbid, uint64 queryid, const char *text, int length, Oid userid, const char *search_path)
{
	if (s_header == nullptr || queryid == 0 || text == nullptr || length <= 0)
		return false;
	QueryKey key;
	memset(&key, 0, sizeof(key));
	key.dbid = dbid;
	key.queryid = queryid;

	LWLockAcquire(s_header->lock, LW_SHARED);
	bool kept = hash_search(s_queries, &key, HASH_FIND, nullptr) != nullptr;
	LWLockRelease(s_header->lock);
	if (kept)
		return true;

	TimestampTz now = GetCurrentTimestamp();
	LWLockAcquire(s_header->lock, LW_EXCLUSIVE);
	if (hash_get_num_entries(s_queries) >= s_max_queries)
		EvictQueries();
	bool found = false;
	auto *entry = static_cast<QueryEntry *>(hash_search(s_queries, &key, HASH_ENTER_NULL, &found));
	if (entry != nullptr && !found) {
		int len = Min(length, kQueryTextBytes - 1);
		// Never cut a multi-byte character in half.
		len = pg_mbcliplen(text, len, len);
		memcpy(entry->text, text, len);
		entry->text[len] = '\0';
		entry->userid = userid;
		// A clipped path would resolve names differently: keep none, and the text is never re-planned.
		if (search_path == nullptr || strlen(search_path) >= sizeof(entry->search_path))
			entry->search_path[0] = '\0';
		else
			strlcpy(entry->search_path, search_path, sizeof(entry->search_path));
		entry->usage = 1.0;
		entry->last_seen = now;
	}
	LWLockRelease(s_header->lock);
	return entry != nullptr;
}

void
StoreCountInternalError()
{
	if (s_header != nullptr)
		pg_atomic_fetch_add_u64(&s_header->internal_errors, 1);
}

void
StoreCountSampled()
{
	if (s_header != nullptr)
		pg_atomic_fetch_add_u64(&s_header->statements_sampled, 1);
}

/* Adds `src` to `dst`: sums, the larger maximum, the earlier first and the later last sighting. */
static void
AddCounters(ShapeCounters *dst, const ShapeCounters &src)
{
	if (src.calls == 0)
		return;
	if (dst->calls == 0 || (src.first_seen != 0 && src.first_seen < dst->first_seen))
		dst->first_seen = src.first_seen;
	dst->last_seen = Max(dst->last_seen, src.last_seen);
	dst->calls += src.calls;
	dst->sampled_calls += src.sampled_calls;
	dst->estimated_calls += src.estimated_calls;
	for (int i = 0; i < 4; i++)
		dst->access_calls[i] += src.access_calls[i];
	dst->cancelled_calls += src.cancelled_calls;
	dst->instrumented_calls += src.instrumented_calls;
	dst->rows_scanned += src.rows_scanned;
	dst->rows_returned += src.rows_returned;
	dst->total_ms += src.total_ms;
	dst->max_ms = Max(dst->max_ms, src.max_ms);
	dst->cancelled_ms += src.cancelled_ms;
}

/* Takes `src` out of `dst` (the sums; the maximum and the sightings stay as they are). */
static void
SubtractCounters(ShapeCounters *dst, const ShapeCounters &src)
{
	dst->calls -= src.calls;
	if (dst->calls <= 0) {
		memset(dst, 0, sizeof(*dst));
		return;
	}
	dst->sampled_calls -= src.sampled_calls;
	dst->estimated_calls -= src.estimated_calls;
	for (int i = 0; i < 4; i++)
		dst->access_calls[i] -= src.access_calls[i];
	dst->cancelled_calls -= src.cancelled_calls;
	dst->instrumented_calls -= src.instrumented_calls;
	dst->rows_scanned -= src.rows_scanned;
	dst->rows_returned -= src.rows_returned;
	dst->total_ms -= src.total_ms;
	dst->cancelled_ms -= src.cancelled_ms;
}

long
StoreShapeCount()
{
	LWLockAcquire(s_header->lock, LW_SHARED);
	long n = hash_get_num_entries(s_shapes);
	LWLockRelease(s_header->lock);
	return n;
}

/*
 * Copies the shapes of `dbid` (every database with InvalidOid) into a palloc'd array. The array is sized
 * before the lock is taken (no allocation under it), and again if the store grew meanwhile.
 */
int
StoreSnapshot(Oid dbid, ShapeEntry **out, Oid own_flush_db)
{
	for (;;) {
		long capacity = StoreShapeCount() + 16;
		auto *copy = static_cast<ShapeEntry *>(palloc_extended(capacity * sizeof(ShapeEntry), MCXT_ALLOC_HUGE));
		int count = 0;
		LWLockAcquire(s_header->lock, LW_SHARED);
		if (hash_get_num_entries(s_shapes) > capacity) {
			LWLockRelease(s_header->lock);
			pfree(copy);
			continue;
		}
		HASH_SEQ_STATUS seq;
		hash_seq_init(&seq, s_shapes);
		ShapeEntry *entry;
		while ((entry = static_cast<ShapeEntry *>(hash_seq_search(&seq))) != nullptr) {
			if (dbid != InvalidOid && entry->key.dbid != dbid)
				continue;
			SpinLockAcquire(&entry->mutex);
			copy[count] = *entry;
			SpinLockRelease(&entry->mutex);
			if (entry->key.dbid != own_flush_db)
				AddCounters(&copy[count].counters, copy[count].inflight);
			memset(&copy[count].inflight, 0, sizeof(ShapeCounters));
			count++;
		}
		LWLockRelease(s_header->lock);
		*out = copy;
		return count;
	}
}

int
StoreTake(Oid dbid, ShapeEntry *out, int capacity)
{
	int count = 0;
	// Exclusive: no backend bumps a counter meanwhile (they hold the shared lock to), so no spinlock.
	LWLockAcquire(s_header->lock, LW_EXCLUSIVE);
	HASH_SEQ_STATUS seq;
	hash_seq_init(&seq, s_shapes);
	ShapeEntry *entry;
	while ((entry = static_cast<ShapeEntry *>(hash_seq_search(&seq))) != nullptr) {
		if (entry->key.dbid != dbid || entry->counters.calls == 0)
			continue;
		if (count >= capacity) {
			hash_seq_term(&seq);
			break;
		}
		out[count] = *entry;
		memset(&out[count].inflight, 0, sizeof(ShapeCounters));
		count++;
		AddCounters(&entry->inflight, entry->counters);
		memset(&entry->counters, 0, sizeof(ShapeCounters));
	}
	LWLockRelease(s_header->lock);
	return count;
}

/* Whether `entry` holds nothing worth keeping: no calls, nothing in flight, no tenants counted apart. */
static bool
Empty(const ShapeEntry &entry)
{
	return entry.counters.calls == 0 && entry.inflight.calls == 0 && entry.ntenants == 0;
}

void
StoreSettleTake(Oid dbid, bool committed)
{
	LWLockAcquire(s_header->lock, LW_EXCLUSIVE);
	HASH_SEQ_STATUS seq;
	hash_seq_init(&seq, s_shapes);
	ShapeEntry *entry;
	while ((entry = static_cast<ShapeEntry *>(hash_seq_search(&seq))) != nullptr) {
		if (entry->key.dbid != dbid || entry->inflight.calls == 0)
			continue;
		if (!committed)
			AddCounters(&entry->counters, entry->inflight);
		memset(&entry->inflight, 0, sizeof(ShapeCounters));
		if (!committed || !Empty(*entry))
			continue;
		// Flushed and idle since: it goes, as if evicted (a tenant frees its place beside the aggregate).
		if (IsTenantEntry(entry->key)) {
			ShapeKey other = OtherKey(entry->key);
			auto *agg = static_cast<ShapeEntry *>(hash_search(s_shapes, &other, HASH_FIND, nullptr));
			if (agg != nullptr && agg->ntenants > 0)
				agg->ntenants--;
		}
		// Removing the element just returned by hash_seq_search is allowed by dynahash.
		hash_search(s_shapes, &entry->key, HASH_REMOVE, nullptr);
	}
	if (committed) {
		// Aggregates whose last kept-apart tenant just went (a second pass: dynahash lets a scan remove
		// only the element it has just returned).
		hash_seq_init(&seq, s_shapes);
		while ((entry = static_cast<ShapeEntry *>(hash_seq_search(&seq))) != nullptr)
			if (entry->key.dbid == dbid && entry->key.tenant_kind == static_cast<uint8>(TenantKind::Other) &&
				Empty(*entry))
				hash_search(s_shapes, &entry->key, HASH_REMOVE, nullptr);
	}
	LWLockRelease(s_header->lock);
}

void
StoreReturnTaken(const ShapeEntry *taken, int n)
{
	LWLockAcquire(s_header->lock, LW_EXCLUSIVE);
	for (int i = 0; i < n; i++) {
		auto *entry = static_cast<ShapeEntry *>(hash_search(s_shapes, &taken[i].key, HASH_FIND, nullptr));
		// A reset since the take discarded the entry (a new one under the same key has nothing in flight).
		if (entry == nullptr || entry->inflight.calls < taken[i].counters.calls)
			continue;
		AddCounters(&entry->counters, taken[i].counters);
		SubtractCounters(&entry->inflight, taken[i].counters);
	}
	LWLockRelease(s_header->lock);
}

int
StoreSnapshotQueries(Oid dbid, QueryEntry **out)
{
	// Allocated before the lock, for the most the store can hold: no out-of-memory ERROR under the lock.
	auto *copy = static_cast<QueryEntry *>(palloc(Max(s_max_queries, 1) * sizeof(QueryEntry)));
	int count = 0;
	LWLockAcquire(s_header->lock, LW_SHARED);
	HASH_SEQ_STATUS seq;
	hash_seq_init(&seq, s_queries);
	QueryEntry *entry;
	while ((entry = static_cast<QueryEntry *>(hash_seq_search(&seq))) != nullptr) {
		if ((dbid == InvalidOid || entry->key.dbid == dbid) && count < s_max_queries)
			copy[count++] = *entry;
	}
	LWLockRelease(s_header->lock);
	*out = copy;
	return count;
}

void
StoreReadCounters(StoreCounters *out)
{
	memset(out, 0, sizeof(*out));
	LWLockAcquire(s_header->lock, LW_SHARED);
	out->entries = hash_get_num_entries(s_shapes);
	out->queries = hash_get_num_entries(s_queries);
	out->reset_at = s_header->reset_at;
	LWLockRelease(s_header->lock);
	out->max_entries = s_max_tracked;
	out->max_queries = s_max_queries;
	out->evictions = pg_atomic_read_u64(&s_header->evictions);
	out->query_evictions = pg_atomic_read_u64(&s_header->query_evictions);
	out->dropped = pg_atomic_read_u64(&s_header->dropped);
	out->internal_errors = pg_atomic_read_u64(&s_header->internal_errors);
	out->statements_sampled = pg_atomic_read_u64(&s_header->statements_sampled);
}

int64
StoreReset()
{
	LWLockAcquire(s_header->lock, LW_EXCLUSIVE);
	int64 removed = hash_get_num_entries(s_shapes);
	HASH_SEQ_STATUS seq;
	hash_seq_init(&seq, s_shapes);
	ShapeEntry *entry;
	while ((entry = static_cast<ShapeEntry *>(hash_seq_search(&seq))) != nullptr)
		hash_search(s_shapes, &entry->key, HASH_REMOVE, nullptr);
	hash_seq_init(&seq, s_queries);
	QueryEntry *query;
	while ((query = static_cast<QueryEntry *>(hash_seq_search(&seq))) != nullptr)
		hash_search(s_queries, &query->key, HASH_REMOVE, nullptr);
	s_header->reset_at = GetCurrentTimestamp();
	pg_atomic_fetch_add_u64(&s_header->text_generation, 1);
	pg_atomic_fetch_add_u64(&s_header->entry_generation, 1);
	LWLockRelease(s_header->lock);
	pg_atomic_write_u64(&s_header->evictions, 0);
	pg_atomic_write_u64(&s_header->query_evictions, 0);
	pg_atomic_write_u64(&s_header->dropped, 0);
	pg_atomic_write_u64(&s_header->statements_sampled, 0);
	return removed;
}

int64
StoreForgetQueries(Oid dbid, Oid userid)
{
	LWLockAcquire(s_header->lock, LW_EXCLUSIVE);
	int64 removed = 0;
	HASH_SEQ_STATUS seq;
	hash_seq_init(&seq, s_queries);
	QueryEntry *query;
	while ((query = static_cast<QueryEntry *>(hash_seq_search(&seq))) != nullptr)
		if (query->key.dbid == dbid && (!OidIsValid(userid) || query->userid == userid)) {
			hash_search(s_queries, &query->key, HASH_REMOVE, nullptr);
			removed++;
		}
	pg_atomic_fetch_add_u64(&s_header->text_generation, 1); /* backends must not skip asking again */
	LWLockRelease(s_header->lock);
	return removed;
}

} // namespace indexpilot::capture
