from ehrql import create_dataset
from ehrql.tables.core import patients
from ehrql.tables.tpp import vaccinations

dataset = create_dataset()
dataset.define_population(vaccinations.exists_for_patient())
dataset.count = vaccinations.count_for_patient()
dataset.add_event_table(
    "vaccinations",
    date=vaccinations.date,
    product=vaccinations.product_name,
)
