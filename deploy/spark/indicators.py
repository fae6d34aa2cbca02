#!/usr/bin/env python3
"""nhanluc's indicator catalogue on Apache Spark, and the national roll-up.

Runs every indicator SQL file of a folder over one or more warehouses that
nhanluc wrote, and writes the rows in nhanluc's layout. It needs nothing of
nhanluc but what each warehouse holds: the tables (`<table>/period=<P>/
department=<D>/*.parquet`), their schemas (`_schemas/<table>.parquet`), the
registry (`departments/part-0.parquet`), the competency table
(`competencies/part-0.parquet`) and the scopes' SQL (`_schemas/scopes.sql`,
the one definition of `department_scopes` and the `<table>_scoped` views,
which nhanluc runs too).

One province, the same rows nhanluc writes:

    spark-submit --master 'local[2]' deploy/spark/indicators.py \\
        --warehouse data/warehouse --sql config/indicators --output out/

    -> out/indicators/period=<P>/part-*.parquet
       (scope, indicator, value, numerator, denominator, unit)

The national roll-up, several provinces' warehouses, each named by its code
(any Hadoop path: local, hdfs://, s3a://):

    spark-submit --master yarn deploy/spark/indicators.py \\
        --warehouse DB=hdfs:///nhanluc/dien-bien/warehouse \\
        --warehouse LC=s3a://nhanluc/lai-chau/warehouse \\
        --sql hdfs:///nhanluc/indicators --output hdfs:///nhanluc/country

    -> out/indicators/period=<P>/part-*.parquet
       (province, scope, indicator, value, numerator, denominator, unit)

A roll-up row has the scope `country` (and a null province), `province:<CODE>`
(the province's `province` rows), or one of the province's own `level:…` and
`department:…` scopes with `province` = its code. Each province's rows are
computed from that province's warehouse exactly as nhanluc computes them; the
country's are computed by the same SQL over all provinces' rows together (each
department code prefixed with its province's, so SNV of one province is not
SNV of another), so every ratio is recomputed from the rows, never averaged.

Options: `--cache-tables` holds each table in Spark's cache (memory, spilling
to disk) after its first read, instead of opening every part file again for
each query. Over the 20,000-department bench warehouse a plain scan of the
training table (20,000 part files) took 20-40 s per query on 2 cores; over a
province with few files it saves nothing (Dien Bien: 84 s without, 92 s with).
`--period P` writes only that period (the other periods already in
the output are kept). Files that only hold comments are skipped, as nhanluc
skips them. A file that fails is reported and the others still run; the exit
status is then 1. A missing or unreadable contract file exits 2 with the path.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, StringType, StructField, StructType

# Tables of `_schemas/` that are not data tables with period/department folders.
NOT_DATA = {"indicators", "departments", "competencies"}
UNITS = {"count", "percent", "vnd", "lessons"}
OUTPUT = ["scope", "indicator", "value", "numerator", "denominator", "unit"]
VIEW_MARK = "-- view:"
# A province code becomes part of department codes and scopes.
PROVINCE_CODE = re.compile(r"^[A-Za-z0-9_-]+$")


class ContractError(Exception):
    """A warehouse lacks a file the job needs, or the arguments are wrong."""


@dataclass
class Warehouse:
    province: str | None
    root: str


@dataclass
class Definition:
    file: str
    sql: str


# --- Hadoop file system -------------------------------------------------------


class Files:
    """Hadoop FileSystem calls, so every path scheme Spark knows works."""

    def __init__(self, spark: SparkSession):
        self.spark = spark
        self.jvm = spark.sparkContext._jvm
        self.conf = spark.sparkContext._jsc.hadoopConfiguration()

    def _fs(self, path: str):
        p = self.jvm.org.apache.hadoop.fs.Path(path)
        return p.getFileSystem(self.conf), p

    def exists(self, path: str) -> bool:
        fs, p = self._fs(path)
        return bool(fs.exists(p))

    def names(self, path: str) -> list[str]:
        """The names in a folder (empty when it does not exist)."""
        fs, p = self._fs(path)
        if not fs.exists(p):
            return []
        return sorted(str(s.getPath().getName()) for s in fs.listStatus(p))

    def glob_names(self, pattern: str) -> list[str]:
        fs, p = self._fs(pattern)
        found = fs.globStatus(p)
        return [] if found is None else [str(s.getPath().getName()) for s in found]

    def text(self, path: str) -> str:
        fs, p = self._fs(path)
        if not fs.exists(p):
            raise ContractError(f"{path}: not found")
        stream = fs.open(p)
        try:
            reader = self.jvm.java.io.BufferedReader(
                self.jvm.java.io.InputStreamReader(stream, "UTF-8")
            )
            lines = []
            while True:
                line = reader.readLine()
                if line is None:
                    break
                lines.append(str(line))
            return "\n".join(lines) + "\n"
        finally:
            stream.close()


def join(root: str, *parts: str) -> str:
    return "/".join([root.rstrip("/"), *parts])


# --- The indicator folder and the scopes' SQL ---------------------------------


def strip_sql_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


def definitions(files: Files, folder: str) -> list[Definition]:
    """Every `.sql` file of the folder, by name, without comment-only files."""
    names = [n for n in files.names(folder) if n.endswith(".sql")]
    if not names:
        why = "has no .sql file" if files.exists(folder) else "does not exist"
        raise ContractError(
            f"{folder}: the indicator folder {why} (give nhanluc's config/indicators, or a copy with your own files)"
        )
    found = []
    for name in names:
        sql = files.text(join(folder, name))
        if strip_sql_comments(sql).strip():
            found.append(Definition(name, sql))
    return found


def scope_sections(sql: str) -> dict[str, str]:
    """`scopes.sql`: the SELECT behind each `-- view: <name>`, in order."""
    sections: dict[str, str] = {}
    current = None
    for line in sql.splitlines():
        if line.startswith(VIEW_MARK):
            current = line[len(VIEW_MARK) :].strip()
            sections[current] = ""
        elif current is not None:
            sections[current] += line + "\n"
    if "department_scopes" not in sections or "{table}_scoped" not in sections:
        raise ContractError(
            "scopes.sql defines no department_scopes or {table}_scoped view "
            "(written by an nhanluc older than this job?)"
        )
    return sections


def scoped_view_sql(sections: dict[str, str], table: str) -> str:
    own = sections.get(f"{table}_scoped")
    return own if own is not None else sections["{table}_scoped"].replace("{table}", table)


# --- Reading a warehouse -------------------------------------------------------


@dataclass
class Tables:
    """One warehouse (or the union of several) as DataFrames."""

    data: dict[str, DataFrame]
    departments: DataFrame
    competencies: DataFrame
    # Every department found in the data tables' folders.
    found: set[str]
    scopes_sql: str


def read_warehouse(spark: SparkSession, files: Files, root: str) -> Tables:
    schemas = join(root, "_schemas")
    names = files.names(schemas)
    if not names:
        raise ContractError(
            f"{schemas}: no table schemas; run nhanluc (ingest or indicators) on this warehouse first"
        )
    tables = [n[: -len(".parquet")] for n in names if n.endswith(".parquet")]
    data: dict[str, DataFrame] = {}
    found: set[str] = set()
    for table in tables:
        if table in NOT_DATA:
            continue
        schema = spark.read.parquet(join(schemas, f"{table}.parquet")).schema
        folder = join(root, table)
        departments = files.glob_names(join(folder, "period=*", "department=*"))
        if departments:
            frame = spark.read.schema(schema).option("basePath", folder).parquet(folder)
            found.update(d[len("department=") :] for d in departments)
        else:
            frame = spark.createDataFrame([], schema)
        data[table] = frame
    for needed in ("departments", "competencies"):
        if not files.exists(join(root, needed, "part-0.parquet")):
            raise ContractError(
                f"{join(root, needed, 'part-0.parquet')}: not found; run nhanluc on this warehouse first"
            )
    return Tables(
        data=data,
        departments=spark.read.parquet(join(root, "departments", "part-0.parquet")),
        competencies=spark.read.parquet(join(root, "competencies", "part-0.parquet")),
        found=found,
        scopes_sql=files.text(join(root, "_schemas", "scopes.sql")),
    )


def qualified(tables: Tables, province: str) -> Tables:
    """The warehouse with each department code `<PROVINCE>/<CODE>`."""
    prefix = f"{province}/"
    data = {
        name: frame.withColumn("department", F.concat(F.lit(prefix), F.col("department")))
        for name, frame in tables.data.items()
    }
    return Tables(
        data=data,
        departments=tables.departments.withColumn("code", F.concat(F.lit(prefix), F.col("code"))),
        competencies=tables.competencies,
        found={prefix + d for d in tables.found},
        scopes_sql=tables.scopes_sql,
    )


def union(provinces: list[Tables]) -> Tables:
    data: dict[str, DataFrame] = {}
    for tables in provinces:
        for name, frame in tables.data.items():
            data[name] = (
                frame if name not in data else data[name].unionByName(frame, allowMissingColumns=True)
            )
    departments = provinces[0].departments
    competencies = provinces[0].competencies
    for tables in provinces[1:]:
        departments = departments.unionByName(tables.departments)
        competencies = competencies.unionByName(tables.competencies)
    return Tables(
        data=data,
        departments=departments,
        competencies=competencies.distinct(),
        found=set().union(*(t.found for t in provinces)),
        scopes_sql=provinces[0].scopes_sql,
    )


def register(spark: SparkSession, tables: Tables, cache_tables: bool) -> list[DataFrame]:
    """The tables, the registry, the competencies and the scopes as temporary
    views, as nhanluc registers them (the tables held in memory after their
    first read with `cache_tables`). Returns what was cached."""
    cached = []
    for name, frame in tables.data.items():
        if cache_tables:
            frame = frame.cache()
            cached.append(frame)
        frame.createOrReplaceTempView(name)
    tables.departments.createOrReplaceTempView("departments")
    tables.competencies.createOrReplaceTempView("competencies")
    registry = {r["code"]: r["level"] for r in tables.departments.collect()}
    codes = [(c, l) for c, l in sorted(registry.items())]
    codes += [(d, None) for d in sorted(tables.found - registry.keys())]
    spark.createDataFrame(
        codes,
        StructType([StructField("code", StringType(), False), StructField("level", StringType(), True)]),
    ).createOrReplaceTempView("department_codes")
    sections = scope_sections(tables.scopes_sql)
    scopes = spark.sql(sections["department_scopes"]).cache()
    scopes.createOrReplaceTempView("department_scopes")
    for name in tables.data:
        spark.sql(scoped_view_sql(sections, name)).createOrReplaceTempView(f"{name}_scoped")
    return [scopes, *cached]


# --- Running the catalogue -------------------------------------------------------


def run_definition(spark: SparkSession, definition: Definition) -> DataFrame:
    """The rows of one file, computed once and held (local checkpoint):
    period, scope, indicator, value, numerator, denominator, unit, with
    non-finite numbers as null, as nhanluc writes them."""
    frame = spark.sql(definition.sql)
    columns = frame.columns
    missing = [c for c in ("period", "scope", "indicator", "value", "unit") if c not in columns]
    if missing:
        raise ValueError(
            f"the query returns no column {', '.join(missing)} (it returns {', '.join(columns)}; "
            "expected period, scope, indicator, value, numerator, denominator, unit)"
        )

    def number(name: str):
        if name not in columns:
            return F.lit(None).cast(DoubleType()).alias(name)
        value = F.col(name).cast(DoubleType())
        finite = ~F.isnan(value) & (F.abs(value) != F.lit(math.inf))
        return F.when(finite, value).alias(name)

    rows = frame.select(
        F.col("period").cast(StringType()).alias("period"),
        F.col("scope").cast(StringType()).alias("scope"),
        F.col("indicator").cast(StringType()).alias("indicator"),
        number("value"),
        number("numerator"),
        number("denominator"),
        F.coalesce(F.col("unit").cast(StringType()), F.lit("")).alias("unit"),
    ).localCheckpoint(eager=True)
    keyless = F.col("period").isNull() | F.col("scope").isNull() | F.col("indicator").isNull()
    bad = rows.filter(keyless | ~F.col("unit").isin(*sorted(UNITS))).limit(1).collect()
    if bad and None in (bad[0]["period"], bad[0]["scope"], bad[0]["indicator"]):
        raise ValueError("a row has a null period, scope or indicator (none of them may be null)")
    if bad:
        raise ValueError(
            f"indicator {bad[0]['indicator']}: unit {bad[0]['unit']!r} is not one of {', '.join(sorted(UNITS))}"
        )
    return rows


def run_catalogue(
    spark: SparkSession,
    tables: Tables,
    defs: list[Definition],
    failures: list[str],
    label: str,
    cache_tables: bool,
) -> DataFrame | None:
    """Every file's rows, one after the other (None when no file gave rows)."""
    started = time.monotonic()
    cached = register(spark, tables, cache_tables)
    print(f"indicators.py: {label}tables registered in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    result = None
    for definition in defs:
        started = time.monotonic()
        try:
            rows = run_definition(spark, definition)
        except Exception as error:  # one broken file must not stop the others
            text = str(error).strip()
            message = text.splitlines()[0] if text else repr(error)
            failures.append(f"{label}{definition.file}: {message}")
            print(f"indicators.py: {label}{definition.file} failed: {message}", file=sys.stderr)
            continue
        print(
            f"indicators.py: {label}{definition.file} computed in {time.monotonic() - started:.1f} s",
            file=sys.stderr,
            flush=True,
        )
        result = rows if result is None else result.unionByName(rows)
    for frame in cached:
        frame.unpersist()
    return result


def roll_up(
    spark: SparkSession, files: Files, warehouses: list[Warehouse], defs, failures, cache_tables: bool
) -> DataFrame | None:
    """Each province's rows (its `province` scope named `province:<CODE>`),
    then the country's: the `province` rows of the catalogue over all
    provinces together, named `country`."""
    parts = []
    provinces = []
    for w in warehouses:
        tables = read_warehouse(spark, files, w.root)
        provinces.append(qualified(tables, w.province))
        rows = run_catalogue(spark, tables, defs, failures, f"{w.province}: ", cache_tables)
        if rows is not None:
            scope = F.when(F.col("scope") == "province", F.lit(f"province:{w.province}")).otherwise(F.col("scope"))
            parts.append(rows.withColumn("province", F.lit(w.province)).withColumn("scope", scope))
    if len({p.scopes_sql for p in provinces}) > 1:
        print(
            "indicators.py: the warehouses' _schemas/scopes.sql differ (different nhanluc versions); "
            f"the country uses {warehouses[0].root}'s",
            file=sys.stderr,
        )
    rows = run_catalogue(spark, union(provinces), defs, failures, "country: ", cache_tables)
    if rows is not None:
        country = rows.filter(F.col("scope") == "province").withColumn("scope", F.lit("country"))
        parts.append(country.withColumn("province", F.lit(None).cast(StringType())))
    result = None
    for part in parts:
        result = part if result is None else result.unionByName(part)
    return result


def write(rows: DataFrame, with_province: bool, output: str) -> tuple[int, int]:
    """Writes `output/indicators/period=<P>/`, one file per period sorted as
    nhanluc sorts it. Returns (rows, periods)."""
    columns = (["province"] if with_province else []) + OUTPUT
    order = (["province"] if with_province else []) + ["indicator", "scope"]
    rows = rows.select("period", *columns)
    (
        rows.repartition("period")
        .sortWithinPartitions(*order)
        .write.mode("overwrite")
        .partitionBy("period")
        .parquet(join(output, "indicators"))
    )
    return rows.count(), rows.select("period").distinct().count()


def parse_warehouses(values: list[str]) -> list[Warehouse]:
    warehouses = []
    for value in values:
        code, sep, root = value.partition("=")
        if sep and PROVINCE_CODE.match(code) and "/" not in code:
            warehouses.append(Warehouse(code, root))
        else:
            warehouses.append(Warehouse(None, value))
    if len(warehouses) > 1 and any(w.province is None for w in warehouses):
        unnamed = [w.root for w in warehouses if w.province is None]
        raise ContractError(
            "several warehouses make a roll-up: give each as CODE=PATH (the province's code); "
            f"not named: {', '.join(unnamed)}"
        )
    codes = [w.province for w in warehouses if w.province]
    if len(set(codes)) != len(codes):
        raise ContractError(f"a province code is given twice: {', '.join(codes)}")
    return warehouses


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--warehouse", action="append", required=True, metavar="[CODE=]PATH",
        help="a warehouse nhanluc wrote; several (each CODE=PATH) make the national roll-up",
    )
    parser.add_argument("--sql", required=True, metavar="FOLDER", help="the indicator SQL folder")
    parser.add_argument("--output", required=True, metavar="PATH", help="writes PATH/indicators/period=<P>/")
    parser.add_argument("--period", help="only this period (the others already written are kept)")
    parser.add_argument(
        "--cache-tables", action="store_true",
        help="hold each table in memory after its first read (many small files: each query otherwise lists and opens them all again)",
    )
    args = parser.parse_args(argv)
    try:
        warehouses = parse_warehouses(args.warehouse)
    except ContractError as error:
        print(f"indicators.py: {error}", file=sys.stderr)
        return 2

    spark = (
        SparkSession.builder.appName("nhanluc-indicators")
        # Partition values stay text: period "2024" and department "001" are names.
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        # Writing one period replaces that period only.
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    files = Files(spark)
    failures: list[str] = []
    try:
        defs = definitions(files, args.sql)
        rollup = len(warehouses) > 1 or warehouses[0].province is not None
        if rollup:
            rows = roll_up(spark, files, warehouses, defs, failures, args.cache_tables)
        else:
            tables = read_warehouse(spark, files, warehouses[0].root)
            rows = run_catalogue(spark, tables, defs, failures, "", args.cache_tables)
        written, periods = (0, 0)
        if rows is not None:
            if args.period:
                rows = rows.filter(F.col("period") == args.period)
            written, periods = write(rows, rollup, args.output)
    except ContractError as error:
        print(f"indicators.py: {error}", file=sys.stderr)
        spark.stop()
        return 2
    spark.stop()
    # On stdout: spark-submit passes the driver's stderr there too, and the
    # summary is what a caller reads.
    print(
        f"indicators.py: {len(defs)} file(s) over {len(warehouses)} warehouse(s): "
        f"{written} row(s) in {periods} period(s) written to {join(args.output, 'indicators')}; "
        f"{len(failures)} failed",
        flush=True,
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
