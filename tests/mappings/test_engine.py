"""The Ecuador budget view: every real Ecuador activity maps end to end, and money reconciles."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iati.elements.activity import Activity
from iati.reader import read_activities, read_activity
from mappings.amounts import Measure
from mappings.crosswalks import Status
from mappings.engine import CLASSIFIED, BudgetView, budget_view
from mappings.finance import NO_FLOW_TYPE
from mappings.geography import NATIONAL
from mappings.money import CENT
from mappings.perimeter import gad_place
from mappings.rates import to_usd
from mappings.sectors import investment_subsectors
from mappings.tables import Classification
from tests.support.samples import CAF_LOANS, ecuador_activities, sample

ECUADOR_FILES = (
    "real/usaid-ec.xml",
    "real/dportal-canada-idrc-denmark-p91.xml",
    "real/dportal-iadb-p3.xml",
    "real/dportal-germany-bmz-p10.xml",
    "real/dportal-usaid-p68.xml",
    "real/dportal-spain-aecid-p16.xml",
    "real/dportal-eu-intpa-p80.xml",
)
TRANSACTION_TYPES = {"2": Measure.commitment, "3": Measure.disbursement,
                     "4": Measure.expenditure}




def _own_totals(activity: Activity) -> dict[Measure, Decimal]:
    """The activity's transactions in US dollars, summed the plain way (no splitting)."""
    totals = dict.fromkeys(TRANSACTION_TYPES.values(), Decimal(0))
    for transaction in activity.transactions:
        kind = (transaction.transaction_type.code or "") if transaction.transaction_type else ""
        value = transaction.value
        if kind not in TRANSACTION_TYPES or value is None or value.amount is None:
            continue
        day = value.value_date or transaction.transaction_date.iso_date  # type: ignore[union-attr]
        currency = value.currency or activity.default_currency or ""
        rate = to_usd(currency, date(day.year, day.month, day.day)).usd
        totals[TRANSACTION_TYPES[kind]] += (value.amount * rate).quantize(CENT)
    return totals


def _only_ecuador(activity: Activity) -> bool:
    """Ecuador is the only recipient, of the activity or of each of its transactions."""
    countries = {(c.code or "").strip() for c in activity.recipient_countries}
    own = {(t.recipient_country.code or "").strip() if t.recipient_country else None
           for t in activity.transactions}
    if activity.recipient_regions:
        return False
    return (countries == {"EC"} and own <= {"EC", None}) or (not countries and own == {"EC"})


@pytest.mark.parametrize("name", ECUADOR_FILES)
def test_every_ecuador_activity_maps_and_each_classification_adds_up_to_its_transactions(
    name: str,
) -> None:
    activities = ecuador_activities(sample(name))
    assert activities
    for activity in activities:
        view = budget_view(activity)
        assert all(f.code and f.message and f.location for f in view.findings)
        share = Decimal(100) if _only_ecuador(activity) else view.ecuador_share
        assert share is not None, activity.identifier
        counted = sum(1 for t in activity.transactions if t.value is not None)
        for measure, own in _own_totals(activity).items():
            totals = {view.total(measure, c) for c in CLASSIFIED}
            assert len(totals) == 1, (activity.identifier, measure)  # the same money in each
            [total] = totals
            if share == 100:
                assert total == own, (activity.identifier, measure)
            else:  # Ecuador's part of each transaction, each within a cent
                assert abs(total - own * share / 100) <= counted * CENT, activity.identifier


def test_each_figure_says_where_it_comes_from_and_unmapped_ones_say_why() -> None:
    activity = ecuador_activities(sample("real/usaid-ec.xml"))[0]
    view = budget_view(activity)
    assert view.figures
    assert len(view.mapping_version) == 12
    for figure in view.figures:
        assert figure.rule
        assert figure.rate > 0
        assert (figure.code is None) == (figure.status is Status.unmapped)
        assert figure.code is not None or figure.reason
    assert set(view.review()) == {f for f in view.figures if f.code is None}


def _activity(body: str, *, countries: str = '<recipient-country code="EC"/>',
              currency: str = "USD") -> Activity:
    xml = f"""<iati-activities version="2.03"><iati-activity default-currency="{currency}">
    <iati-identifier>XM-DAC-46008-T1</iati-identifier>
    <reporting-org ref="XM-DAC-46008" type="40"><narrative>CAF</narrative></reporting-org>
    {countries}
    <sector vocabulary="1" code="15210"/>
    <default-finance-type code="110"/>
    <default-flow-type code="10"/>
    <default-aid-type code="C01"/>
    {body}
    </iati-activity></iati-activities>"""
    return read_activity(xml.encode())


def _by_code(view: BudgetView, classification: Classification) -> dict[str | None, Decimal]:
    found: dict[str | None, Decimal] = {}
    for figure in view.figures:
        if figure.classification is classification:
            found[figure.code] = found.get(figure.code, Decimal(0)) + figure.usd
    return found


def test_a_budget_over_two_years_is_divided_by_its_days_in_each() -> None:
    view = budget_view(_activity("""<budget><period-start iso-date="2024-07-01"/>
        <period-end iso-date="2025-06-30"/><value value-date="2024-07-01">1000.00</value>
        </budget>"""))
    years: dict[int, Decimal] = {}
    for figure in view.figures:
        if figure.classification is Classification.fuente:
            years[figure.year] = years.get(figure.year, Decimal(0)) + figure.usd
    assert sum(years.values()) == Decimal("1000.00")
    assert abs(years[2024] - Decimal(1000) * 184 / 365) < CENT
    assert abs(years[2025] - Decimal(1000) * 181 / 365) < CENT


def test_only_ecuadors_share_is_counted_and_other_countries_transactions_are_left_out() -> None:
    view = budget_view(_activity(
        """<transaction><transaction-type code="3"/><transaction-date iso-date="2024-03-01"/>
           <value>1000.00</value></transaction>
           <transaction><transaction-type code="3"/><transaction-date iso-date="2024-03-01"/>
           <value>500.00</value><recipient-country code="PE"/></transaction>""",
        countries='<recipient-country code="EC" percentage="60"/>'
                  '<recipient-country code="PE" percentage="40"/>',
    ))
    assert view.ecuador_share == 60
    for classification in CLASSIFIED:
        assert view.total(Measure.disbursement, classification) == Decimal("600.00")


def test_a_transactions_own_sector_comes_before_the_activitys() -> None:
    view = budget_view(_activity(
        """<transaction><transaction-type code="3"/><transaction-date iso-date="2024-03-01"/>
           <value>100.00</value><sector vocabulary="1" code="16063"/></transaction>"""))
    expected = {r.code for r in investment_subsectors("1", "16063", on=date(2024, 3, 1))}
    assert set(_by_code(view, Classification.investment_subsector)) == expected


def test_codes_the_donor_published_come_before_the_crosswalks() -> None:
    view = budget_view(_activity(
        """<country-budget-items vocabulary="2">
             <budget-item code="180301" percentage="60"/>
             <budget-item code="280301" percentage="40"/>
             <budget-item code="999999" percentage="0"/>
           </country-budget-items>
           <transaction><transaction-type code="3"/><transaction-date iso-date="2024-03-01"/>
           <value>250.00</value></transaction>"""))
    assert _by_code(view, Classification.income_item) == {
        "180301": Decimal("150.00"), "280301": Decimal("100.00"),
    }
    income = [f for f in view.figures if f.classification is Classification.income_item]
    assert {f.status for f in income} == {Status.published}
    assert [f.code for f in view.findings] == ["mapping.unknown-budget-item"]


def test_money_that_cannot_be_converted_is_reported_never_guessed() -> None:
    view = budget_view(_activity(
        """<transaction><transaction-type code="3"/><transaction-date iso-date="2024-03-01"/>
           <value currency="XYZ">100.00</value></transaction>
           <transaction><transaction-type code="3"/></transaction>"""))
    assert view.figures == ()
    assert [(f.code, f.location) for f in view.findings] == [
        ("mapping.no-rate", "transaction[1]"), ("mapping.no-amount", "transaction[2]"),
    ]


def test_an_amount_no_cooperation_reaches_is_reported_and_left_out() -> None:
    transactions = "".join(
        f"""<transaction><transaction-type code="3"/><transaction-date iso-date="2024-03-01"/>
            <value currency="{currency}">{amount}</value></transaction>"""
        for currency, amount in [("USD", "9999999999999.99"), ("USD", "10000000000000"),
                                 ("EUR", "9500000000000"), ("USD", "-1" + "0" * 40),
                                 ("USD", "12.50")]
    )
    view = budget_view(_activity(transactions))
    assert [(f.code, f.location) for f in view.findings] == [
        ("mapping.too-large", f"transaction[{n}]") for n in (2, 3, 4)
    ]
    assert view.total(Measure.disbursement, Classification.fuente) == Decimal("10000000000012.49")


@settings(max_examples=40, deadline=None)
@given(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e9"), places=2),
    st.lists(st.integers(min_value=1, max_value=90), min_size=1, max_size=4),
    st.sampled_from(["USD", "EUR", "GBP"]),
)
def test_every_classification_conserves_the_converted_amount(
    amount: Decimal, percentages: list[int], currency: str
) -> None:
    codes = ["15210", "12220", "16063", "41010"]
    sectors = "".join(f'<sector vocabulary="1" code="{code}" percentage="{share}"/>'
                      for code, share in zip(codes, percentages, strict=False))
    activity = _activity(
        f"""{sectors}<transaction><transaction-type code="2"/>
            <transaction-date iso-date="2023-05-10"/><value>{amount}</value></transaction>""",
        currency=currency,
    )
    view = budget_view(activity)
    converted = (amount * to_usd(currency, date(2023, 5, 10)).usd).quantize(CENT)
    assert {view.total(Measure.commitment, c) for c in CLASSIFIED} == {converted}


def test_a_region_given_beside_its_countries_does_not_halve_ecuadors_share() -> None:
    # AECID publishes Ecuador at 100 % and South America (489) at 100 %.
    activity = ecuador_activities(sample("real/dportal-spain-aecid-p16.xml"))[0]
    assert [(c.code, c.percentage) for c in activity.recipient_countries] == [("EC", 100)]
    assert [r.percentage for r in activity.recipient_regions] == [100]
    view = budget_view(activity)
    assert view.ecuador_share == 100
    assert "mapping.regions-beside-countries" in {f.code for f in view.findings}


CAF = CAF_LOANS
# Each executor CAF names (participating-org role 4, no type, no ref), its perimeter.
CAF_EXECUTORS = {
    "MINISTERIO DE SALUD PúBLICA": "central", "MINISTERIO DE EDUCACIóN Y CULTURA": "central",
    "Ministerio de Energía y Minas del Ecuador": "central",
    "MINISTERIO DE ECONOMíA Y FINANZAS": "central",
    "MINISTERIO DE TRANSPORTE Y OBRAS PúBLICAS": "central",
    "MINISTERIO DE DESARROLLO URBANO Y VIVIENDA (MIDUVI)": "central",
    "REPúBLICA DEL ECUADOR": "central",
    "GOBIERNO PROVINCIAL DE MANABí": "gad", "GOBIERNO PROVINCIAL DE GUAYAS": "gad",
    "GOBIERNO DE LA PROVINCIA DE PICHINCHA": "gad", "MUNICIPALIDAD DE QUITO": "gad",
    "MUNICIPALIDAD DE CUENCA": "gad", "Muy Ilustre Municipalidad de Guayaquil": "gad",
    "MUNICIPIO DE LOJA DE L A REPUBLICA DE ECUADOR": "gad",
    "GOBIERNO AUTóNOMO DESCENTRALIZADO DEL MUNICIPIO DE DAULE": "gad",
    "GOBIERNO AUTóNOMO DESCENTRALIZADO DEL MUNICIPIO DE SAMBORONDóN": "gad",
    "EMPRESA MUNICIPAL DE MOVILIDAD Y OBRAS PúBLICAS DE QUITO": "gad",
    "EMPRESA PúBLICA MUNICIPAL DE TELECOMUNICACIONES AGUA POTABLE ALCANTARILLADO Y S": "gad",
    "BANCO DEL ESTADO": "public-financial", "BANECUADOR": "public-financial",
    "Corporación Financiera Nacional CFN": "public-financial",
    "CORPORACIóN NACIONAL DE FINANZAS POPULARES Y SOLIDARIAS": "public-financial",
    "Banco del Pacífico": "public-financial",  # state-owned under private law: proposed
    "Banco Bolivariano": "off-budget", "BANCO DE GUAYAQUIL S.A.": "off-budget",
    "BANCO PICHINCHA C.A.": "off-budget",
}


def _codes(view: BudgetView) -> dict[Classification, set[str | None]]:
    found: dict[Classification, set[str | None]] = {}
    for figure in view.figures:
        found.setdefault(figure.classification, set()).add(figure.code)
    return found


def test_a_development_banks_loans_sit_in_the_perimeter_of_their_executor() -> None:
    """CAF's real Ecuador loans: finance type 421, no flow type, its own sector vocabulary,
    no location, executors named only — to ministries in the PGE with 3603 and fuente 202,
    to GADs and public banks outside it, to private banks off-budget with no income ítem."""
    seen, placed = set(), set()
    for record in read_activities(CAF):
        activity: Activity = record.model
        [executor] = [org.text() for org in activity.participating_orgs]
        assert executor is not None
        seen.add(executor)
        view = budget_view(activity)
        codes = _codes(view)
        perimeter = CAF_EXECUTORS[executor]
        assert codes[Classification.perimeter] == {perimeter}, executor
        assert codes[Classification.instrument] == {"loan"}
        if perimeter == "off-budget":
            assert codes[Classification.income_item] == codes[Classification.fuente] == {"n/a"}
            assert {f.status for f in view.figures if f.code == "n/a"} == {
                Status.not_applicable}
        else:
            assert codes[Classification.income_item] == {"360301"}  # from a multilateral
            assert codes[Classification.fuente] == {"202"}
            assert all(NO_FLOW_TYPE in f.rule for f in view.figures
                       if f.classification is Classification.fuente)
        for measure in {f.measure for f in view.figures}:
            assert len({view.total(measure, c) for c in CLASSIFIED}) == 1  # conserved
        if gad_place(executor, date(2024, 1, 1)) is not None:  # placed by its executor
            provinces = codes[Classification.province]
            assert provinces
            assert None not in provinces
            placed.add(executor)
    assert seen == set(CAF_EXECUTORS)
    assert len(placed) >= 9  # provincial governments and municipalities


def test_grants_that_ngos_and_contractors_implement_are_off_budget_not_budget_income() -> None:
    """USAID's Ecuador grants go to NGOs, contractors and UN agencies: none is PGE income."""
    off_budget = total = Decimal(0)
    for activity in ecuador_activities(sample("real/usaid-ec.xml")):
        view = budget_view(activity)
        perimeters = {(f.location, f.measure, f.year): f for f in view.figures
                      if f.classification is Classification.perimeter}
        for figure in view.figures:
            if figure.classification is Classification.perimeter:
                total += figure.usd
                off_budget += figure.usd if figure.code == "off-budget" else 0
            if figure.classification in (Classification.income_item, Classification.fuente):
                where = perimeters[figure.location, figure.measure, figure.year]
                assert (figure.code == "n/a") == (where.code == "off-budget")
    assert off_budget / total > Decimal("0.95")


def test_the_disbursement_channel_is_a_flag_as_published_never_the_perimeter() -> None:
    activity = _activity("""
    <participating-org role="4" type="21"><narrative>CARE International</narrative>
    </participating-org>
    <transaction><transaction-type code="3"/><transaction-date iso-date="2024-05-02"/>
      <value value-date="2024-05-02">1000.00</value><disbursement-channel code="1"/>
    </transaction>
    <transaction><transaction-type code="3"/><transaction-date iso-date="2024-06-02"/>
      <value value-date="2024-06-02">500.00</value>
    </transaction>""", currency="USD")
    view = budget_view(activity)
    channel = {f.location: f for f in view.figures
               if f.classification is Classification.disbursement_channel}
    first, second = channel["transaction[1]"], channel["transaction[2]"]
    assert (first.code, first.status) == ("1", Status.published)
    assert (second.code, second.status) == (None, Status.unmapped)
    assert second.reason == "no disbursement channel published"
    # Through the Treasury or not, an NGO's money enters no public budget.
    assert _by_code(view, Classification.perimeter) == {"off-budget": Decimal("1500.00")}


def test_an_expenditure_stays_in_the_budget_of_who_spends_it_not_the_supplier_paid() -> None:
    activity = _activity("""
    <participating-org role="4"><narrative>Ministerio de Salud Pública</narrative>
    </participating-org>
    <transaction><transaction-type code="4"/><transaction-date iso-date="2024-05-02"/>
      <value value-date="2024-05-02">800.00</value>
      <provider-org><narrative>Ministerio de Salud Pública</narrative></provider-org>
      <receiver-org><narrative>Constructora Andina S.A.</narrative></receiver-org>
    </transaction>
    <transaction><transaction-type code="3"/><transaction-date iso-date="2024-04-02"/>
      <value value-date="2024-04-02">1000.00</value>
      <receiver-org><narrative>Ministerio de Salud Pública</narrative></receiver-org>
    </transaction>""", currency="USD")
    view = budget_view(activity)
    assert _by_code(view, Classification.perimeter) == {"central": Decimal("1800.00")}
    income = {f.measure: f.code for f in view.figures
              if f.classification is Classification.income_item}
    # CAF, a multilateral (type 40), gives the money both times: the spender is no funder.
    assert income == {Measure.expenditure: "280301", Measure.disbursement: "280301"}


def test_a_national_activity_without_locations_is_placed_nacional_not_unmapped() -> None:
    """USAID's Ecuador file: 45 activities of activity-scope 4 publish no location."""
    national = [a for a in ecuador_activities(sample("real/usaid-ec.xml"))
                if a.activity_scope is not None and a.activity_scope.code == "4"
                and not a.locations]
    assert len(national) == 45
    for activity in national[:10]:
        view = budget_view(activity)
        places = {f.code for f in view.figures
                  if f.classification in (Classification.province, Classification.canton)}
        assert places <= {NATIONAL, None}
        assert NATIONAL in places or not view.figures
