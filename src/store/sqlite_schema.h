// The SQLite schema as an ordered list of migrations, and the code that applies them.
//
// Private to src/store. Migrations are append-only: a released step is never edited, a change is
// a new step. schema_version holds the number of steps applied.
#pragma once

#include <cstddef>

#include "core/status.h"
#include "store/sqlite_util.h"

namespace hb::store::sqlite {

// The number of migration steps this binary knows.
size_t schema_version_known();

// Brings the database up to `target` steps (schema_version_known() when omitted), one
// transaction per step. kConflict when the file is already past what this binary knows.
// Safe against another process migrating the same file at the same time.
Status migrate(Conn& conn, size_t target);
inline Status migrate(Conn& conn) { return migrate(conn, schema_version_known()); }

// The applied version (0 for a fresh file).
Result<int64_t> schema_version(Conn& conn);

}  // namespace hb::store::sqlite
