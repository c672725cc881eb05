"""Reads cohortextractor study definitions as written, without cohortextractor.

cohortkit runs this with the system python3 (no pandas, no network):
`python3 - PROJECT_DIR NAME [KEY=VALUE ...]`, the script on stdin. It puts a
recording stand-in for the cohortextractor API in `sys.modules`, imports
`analysis/NAME.py` from PROJECT_DIR as cohortextractor does (the project and
its `analysis/` on the path, the project as working directory, the
`KEY=VALUE` pairs in `cohortextractor.params`), and prints one JSON object:

    {"index_date": ..., "default_expectations": {...},
     "columns": [[name, hidden], ...],   # cohortextractor's order
     "measures": [{"id", "numerator", "denominator", "group_by",
                   "small_number_suppression"}, ...]}

Any failure prints the traceback's last line on stderr and exits 1.
"""

import csv
import importlib
import json
import os
import sys
import types


class MissingParameterError(KeyError):
    pass


class ParamDict(dict):
    def __getitem__(self, key):
        try:
            return super().__getitem__(key)
        except KeyError:
            raise MissingParameterError(
                f"parameter {key!r} is not set: pass it with --param {key}=VALUE"
            )


class Variable:
    """A recorded `patients.FUNCTION(...)` call."""

    def __init__(self, function, args, kwargs):
        self.function = function
        self.args = args
        self.kwargs = kwargs

    def nested(self):
        """Keyword arguments that are variables themselves (the extra
        columns of categorised_as, satisfying, minimum_of, ...)."""
        return [(k, v) for k, v in self.kwargs.items() if isinstance(v, Variable)]


class Patients(types.ModuleType):
    def __getattr__(self, function):
        if function.startswith("__"):
            raise AttributeError(function)

        def record(*args, **kwargs):
            return Variable(function, args, kwargs)

        record.__name__ = function
        return record


class Codelist(list):
    system = None
    has_categories = False


def codelist_from_csv(filename, system, column="code", category_column=None):
    codes = Codelist()
    codes.system = system
    if os.path.exists(filename):
        with open(filename, newline="") as f:
            for row in csv.DictReader(f):
                code = row[column].strip()
                if category_column:
                    codes.append((code, row[category_column].strip()))
                else:
                    codes.append(code)
    codes.has_categories = category_column is not None
    return codes


def codelist(codes, system, check_categories=True):
    result = Codelist(codes)
    result.system = system
    result.has_categories = bool(codes) and isinstance(codes[0], tuple)
    return result


def filter_codes_by_category(codes, include):
    result = Codelist(code for code, category in codes if category in include)
    result.system = getattr(codes, "system", None)
    return result


def combine_codelists(first_codelist, *other_codelists):
    result = Codelist(first_codelist)
    for other in other_codelists:
        result.extend(code for code in other if code not in result)
    result.system = getattr(first_codelist, "system", None)
    return result


class StudyDefinition:
    def __init__(
        self, population, default_expectations=None, index_date=None, **covariates
    ):
        covariates["population"] = population
        self.default_expectations = default_expectations or {}
        self.index_date = index_date
        self.columns = flatten(covariates)

    def set_index_date(self, index_date):
        self.index_date = index_date


def flatten(covariates):
    """cohortextractor's flatten_nested_covariates: nested variables come
    before the variable that holds them, and are hidden."""
    flattened = {}
    hidden = set()
    items = list(covariates.items())
    while items:
        name, variable = items.pop(0)
        nested = variable.nested() if isinstance(variable, Variable) else []
        if nested:
            kept = {k: v for k, v in variable.kwargs.items() if not isinstance(v, Variable)}
            hidden.update(k for k, _ in nested)
            items[:0] = nested + [(name, Variable(variable.function, variable.args, kept))]
        else:
            if name in flattened:
                raise ValueError(f"Duplicate columns named '{name}'")
            flattened[name] = variable
    return [[name, name in hidden] for name in flattened]


POPULATION = "population"


class Measure:
    POPULATION_COLUMN = POPULATION

    def __init__(
        self, id, denominator, numerator, group_by=None, small_number_suppression=False
    ):
        self.id = id
        self.denominator = denominator
        self.numerator = numerator
        if group_by is None:
            self.group_by = []
        elif not isinstance(group_by, (list, tuple)):
            self.group_by = [group_by]
        else:
            self.group_by = list(group_by)
        self.small_number_suppression = small_number_suppression
        if self.group_by != [POPULATION]:
            bad = None
            if self.numerator in self.group_by:
                bad = "numerator"
            if self.denominator in self.group_by:
                bad = "denominator"
            if bad:
                raise ValueError(
                    f"Column '{getattr(self, bad)}' appears in both {bad} and group_by"
                )


def install():
    package = types.ModuleType("cohortextractor")
    patients = Patients("cohortextractor.patients")
    params = ParamDict()
    members = {
        "StudyDefinition": StudyDefinition,
        "Measure": Measure,
        "codelist": codelist,
        "codelist_from_csv": codelist_from_csv,
        "filter_codes_by_category": filter_codes_by_category,
        "combine_codelists": combine_codelists,
        "params": params,
        "patients": patients,
        "MissingParameterError": MissingParameterError,
        "__version__": "1.93.3",
    }
    for name, value in members.items():
        setattr(package, name, value)
    package.__all__ = [n for n in members if not n.startswith("__")]
    package.__path__ = []
    sys.modules["cohortextractor"] = package
    sys.modules["cohortextractor.patients"] = patients
    for sub, names in {
        "codelistlib": [
            "codelist",
            "codelist_from_csv",
            "filter_codes_by_category",
            "combine_codelists",
        ],
        "measure": ["Measure"],
        "study_definition": ["StudyDefinition"],
    }.items():
        module = types.ModuleType(f"cohortextractor.{sub}")
        for name in names:
            setattr(module, name, members[name])
        sys.modules[f"cohortextractor.{sub}"] = module
        setattr(package, sub, module)
    return params


def plain(value):
    """A JSON value of what a study definition may hold in its expectations."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def main():
    project, name, *pairs = sys.argv[1:]
    params = install()
    for pair in pairs:
        key, _, value = pair.partition("=")
        params[key] = value
    os.chdir(project)
    sys.path[:0] = [project, os.path.join(project, "analysis")]
    sys.dont_write_bytecode = True
    module = importlib.import_module(name)
    study = getattr(module, "study", None)
    if not isinstance(study, StudyDefinition):
        raise ValueError(f"analysis/{name}.py defines no `study = StudyDefinition(...)`")
    measures = getattr(module, "measures", [])
    json.dump(
        {
            "index_date": plain(study.index_date),
            "default_expectations": plain(study.default_expectations),
            "columns": study.columns,
            "measures": [
                {
                    "id": m.id,
                    "numerator": m.numerator,
                    "denominator": m.denominator,
                    "group_by": list(m.group_by),
                    "small_number_suppression": bool(m.small_number_suppression),
                }
                for m in measures
            ],
        },
        sys.stdout,
    )


if __name__ == "__main__":
    try:
        main()
    except Exception as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
