# A cohortextractor-era study made for cohortkit's tests: monthly extracts
# and measures, one set of them built in a loop as real studies do.
from cohortextractor import Measure, StudyDefinition, codelist_from_csv, patients

asthma_codes = codelist_from_csv(
    "codelists/asthma.csv", system="ctv3", column="CTV3ID"
)

study = StudyDefinition(
    default_expectations={
        "date": {"earliest": "2019-01-01", "latest": "today"},
        "rate": "uniform",
        "incidence": 0.5,
    },
    index_date="2020-01-01",
    population=patients.registered_as_of("index_date"),
    age=patients.age_as_of(
        "index_date",
        return_expectations={
            "rate": "universal",
            "int": {"distribution": "population_ages"},
        },
    ),
    sex=patients.sex(
        return_expectations={
            "rate": "universal",
            "category": {"ratios": {"M": 0.49, "F": 0.51}},
        }
    ),
    age_band=patients.categorised_as(
        {
            "0": "DEFAULT",
            "0-39": "age_years < 40",
            "40-64": "age_years >= 40 AND age_years < 65",
            "65+": "age_years >= 65",
        },
        age_years=patients.age_as_of("index_date"),
        return_expectations={
            "rate": "universal",
            "category": {"ratios": {"0-39": 0.5, "40-64": 0.3, "65+": 0.2}},
        },
    ),
    region=patients.registered_practice_as_of(
        "index_date",
        returning="nuts1_region_name",
        return_expectations={
            "rate": "universal",
            "category": {
                "ratios": {
                    "North East": 0.2,
                    "London": 0.5,
                    "South West": 0.29,
                    "Wales": 0.01,
                }
            },
        },
    ),
    practice=patients.registered_practice_as_of(
        "index_date",
        returning="pseudo_id",
        return_expectations={
            "int": {"distribution": "normal", "mean": 40, "stddev": 12},
            "incidence": 1,
        },
    ),
    asthma=patients.with_these_clinical_events(
        asthma_codes,
        between=["index_date", "last_day_of_month(index_date)"],
        return_expectations={"incidence": 0.1},
    ),
    consultations=patients.with_gp_consultations(
        between=["index_date", "last_day_of_month(index_date)"],
        returning="number_of_matches_in_period",
        return_expectations={
            "int": {"distribution": "poisson", "mean": 2},
            "incidence": 0.6,
        },
    ),
)

measures = [
    Measure(
        id="asthma_total",
        numerator="asthma",
        denominator="population",
        group_by="population",
    ),
    Measure(
        id="consultations_by_practice",
        numerator="consultations",
        denominator="population",
        group_by=["practice"],
        small_number_suppression=True,
    ),
    Measure(
        id="consultations_per_patient",
        numerator="consultations",
        denominator="population",
    ),
]

for group in ["sex", "region", "age_band"]:
    measures.append(
        Measure(
            id=f"asthma_by_{group}",
            numerator="asthma",
            denominator="population",
            group_by=[group],
            small_number_suppression=group == "region",
        )
    )

measures.append(
    Measure(
        id="asthma_by_sex_and_age_band",
        numerator="asthma",
        denominator="consultations",
        group_by=["sex", "age_band"],
    )
)
