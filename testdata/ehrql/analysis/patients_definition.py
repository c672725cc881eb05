from ehrql import create_dataset
from ehrql.tables.core import ons_deaths, patients
from ehrql.tables.tpp import care_home_resident

dataset = create_dataset()
dataset.define_population(patients.exists_for_patient())
dataset.date_of_death = ons_deaths.date
dataset.in_care_home = care_home_resident.exists_for_patient()
dataset.configure_dummy_data(population_size=1000)
