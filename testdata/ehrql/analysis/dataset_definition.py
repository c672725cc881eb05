from ehrql import create_dataset, codelist_from_csv, years
from ehrql.tables.core import patients, medications
from ehrql.tables.tpp import addresses, clinical_events, practice_registrations

index_date = "2022-03-31"

dataset = create_dataset()
registered = practice_registrations.for_patient_on(index_date).exists_for_patient()
dataset.define_population(registered & patients.is_alive_on(index_date))

dataset.sex = patients.sex
dataset.age = patients.age_on(index_date)
asthma_codes = codelist_from_csv("codelists/opensafely-asthma-diagnosis.csv", column="code")
dataset.has_asthma = (
    clinical_events.where(clinical_events.snomedct_code.is_in(asthma_codes))
    .where(clinical_events.date.is_on_or_before(index_date))
    .exists_for_patient()
)
dataset.bmi = (
    clinical_events.where(clinical_events.snomedct_code == "60621009")
    .sort_by(clinical_events.date)
    .last_for_patient()
    .numeric_value
)
dataset.first_covid_vaccination = (
    medications.where(medications.date.is_on_or_after("2020-12-08"))
    .sort_by(medications.date)
    .first_for_patient()
    .date
)
dataset.region = practice_registrations.for_patient_on(index_date).practice_nuts1_region_name
dataset.imd_quintile = addresses.for_patient_on(index_date).imd_quintile
