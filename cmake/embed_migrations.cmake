# cmake -DSQL_DIR=... -DOUTPUT=... -P embed_migrations.cmake
#
# Writes a C++ file holding every store/migrations/NNNN_name.sql as a string, in version order,
# so that the binaries carry their schema and need no files at run time.
file(GLOB files "${SQL_DIR}/*.sql")
list(SORT files)
set(entries "")
foreach(file IN LISTS files)
    get_filename_component(stem "${file}" NAME_WE)
    if(NOT stem MATCHES "^([0-9][0-9][0-9][0-9])_([a-z0-9_]+)$")
        message(FATAL_ERROR "migration file name must be NNNN_name.sql: ${file}")
    endif()
    math(EXPR version "${CMAKE_MATCH_1}")
    set(name "${CMAKE_MATCH_2}")
    file(READ "${file}" sql)
    string(FIND "${sql}" ")billpay_sql\"" clash)
    if(NOT clash EQUAL -1)
        message(FATAL_ERROR "${file} contains the raw string delimiter")
    endif()
    string(APPEND entries "    {${version}, \"${name}\", R\"billpay_sql(${sql})billpay_sql\"},\n")
endforeach()
set(content "// Generated from store/migrations/*.sql by cmake/embed_migrations.cmake. Do not edit.
#include \"store/migrations.hpp\"

namespace billpay::store {
namespace {
constexpr migration all[] = {
${entries}};
}  // namespace

std::span<const migration> built_in_migrations() { return all; }

}  // namespace billpay::store
")
file(WRITE "${OUTPUT}.tmp" "${content}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
