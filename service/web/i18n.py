"""The dashboard's two languages: Spanish (the default) and English — its words, and
numbers, money and dates written as each locale writes them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

LANGUAGES = ("es", "en")
DEFAULT = "es"
COOKIE = "lang"

MONTHS = {
    "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}

WORDS: dict[str, tuple[str, str]] = {
    # key: (Spanish, English)
    "site": ("Cooperación internacional en Ecuador", "International cooperation in Ecuador"),
    "skip": ("Saltar al contenido", "Skip to content"),
    "nav": ("Secciones", "Sections"),
    "overview": ("Resumen", "Overview"),
    "activities": ("Actividades", "Activities"),
    "organisations": ("Organizaciones", "Organisations"),
    "publishers": ("Calidad de datos", "Data quality"),
    "coordination": ("Coordinación", "Coordination"),
    "results_page": ("Resultados", "Results"),
    "agreements": ("Convenios", "Agreements"),
    "agreements_intro": ("Convenios de cooperación que registra el Ministerio de Relaciones "
                         "Exteriores y Movilidad Humana, con las actividades IATI que los "
                         "ejecutan y el avance de sus metas.",
                         "Cooperation agreements recorded by the Ministry of Foreign Affairs "
                         "and Human Mobility, with the IATI activities that implement them "
                         "and the progress of their targets."),
    "no_agreements": ("No hay convenios registrados.", "No agreement is recorded."),
    "agreement_code": ("Referencia", "Reference"),
    "agreement_amount": ("Monto del convenio", "Agreement amount"),
    "signed_on": ("Firmado el", "Signed on"),
    "agreement_activities": ("Actividades que lo ejecutan", "Activities that implement it"),
    "activities_present": ("Actividades publicadas", "Activities published"),
    "present": ("Publicada", "Published"),
    "awaiting": ("Aún no publicada", "Not published yet"),
    "parties": ("Partes", "Parties"),
    "plan_objectives": ("Objetivos del plan nacional", "National plan objectives"),
    "metrics": ("Metas del convenio", "Agreement targets"),
    "metric": ("Meta", "Target"),
    "unit": ("Unidad", "Unit"),
    "linked_indicator": ("Indicador IATI vinculado", "Linked IATI indicator"),
    "no_indicator": ("Sin indicador IATI vinculado", "No linked IATI indicator"),
    "indicator_awaiting": ("el indicador aún no está publicado", "the indicator is not "
                           "published yet"),
    "money_of_activities": ("Dinero de las actividades publicadas (parte de Ecuador, USD)",
                            "Money of the published activities (Ecuador's share, USD)"),
    "agreement_status_negotiation": ("En negociación", "Under negotiation"),
    "agreement_status_in-force": ("Vigente", "In force"),
    "agreement_status_concluded": ("Concluido", "Concluded"),
    "agreement_status_cancelled": ("Cancelado", "Cancelled"),
    "party_donor": ("Cooperante", "Provider"),
    "party_recipient": ("Receptor", "Recipient"),
    "party_implementer": ("Ejecutor", "Implementer"),
    "party_signatory": ("Firmante", "Signatory"),
    "progress_measured": ("Medido", "Measured"),
    "progress_no-progress-report": ("Sin reporte de avance", "No progress reported"),
    "progress_not-measurable": ("No medible", "Not measurable"),
    "duplicates": ("Posibles duplicados", "Possible duplicates"),
    "score": ("Puntaje", "Score"),
    "evidence": ("Evidencia", "Evidence"),
    "decision": ("Decisión", "Decision"),
    "overlaps": ("Superposiciones entre cooperantes", "Overlaps between providers"),
    "kind": ("Clase", "Kind"),
    "donors": ("Cooperantes", "Providers"),
    "years": ("Años", "Years"),
    "partner": ("Socio ejecutor", "Implementing partner"),
    "no_duplicates": ("No se encontraron posibles duplicados.", "No possible duplicates found."),
    "no_overlaps": ("No se encontraron superposiciones.", "No overlaps found."),
    "group_by": ("Agrupar por", "Group by"),
    "indicators": ("Indicadores", "Indicators"),
    "periods": ("Períodos", "Periods"),
    "measurable": ("Medibles", "Measurable"),
    "mean_progress": ("Avance medio (%)", "Mean progress (%)"),
    "median_progress": ("Avance mediano (%)", "Median progress (%)"),
    "on_track": ("En meta", "On track"),
    "left_out_of_mean": ("Fuera de la media", "Left out of the mean"),
    "left_out_of_mean_note": (
        "La media deja fuera los períodos con un avance de más de ±1.000 % o calculado con "
        "un valor cuya coma podría ser decimal; la mediana los incluye.",
        "The mean leaves out periods whose progress is beyond ±1,000 % or comes from a value "
        "whose comma could be a decimal separator; the median includes them."),
    "doubtful_progress": ("fuera de la media", "left out of the mean"),
    "no_progress_report": ("Sin reporte de avance", "No progress reported"),
    "no_progress_report_indicators": ("Indicadores sin reporte de avance",
                                      "Indicators without progress reported"),
    "links": ("Trazabilidad", "Traceability"),
    "incoming": ("Actividades que la mencionan", "Activities naming it"),
    "outgoing": ("Actividades que menciona", "Activities it names"),
    "flows": ("Flujos de dinero entre actividades", "Money flows between activities"),
    "matched": ("Reportado por ambos", "Reported by both"),
    "funder": ("Financiador", "Funder"),
    "implementer": ("Ejecutor", "Implementer"),
    "indicator": ("Indicador", "Indicator"),
    "period": ("Período", "Period"),
    "baseline": ("Línea base", "Baseline"),
    "target": ("Meta", "Target"),
    "actual": ("Logro", "Actual"),
    "progress": ("Avance (%)", "Progress (%)"),
    "no_results": ("Sin resultados publicados.", "No results published."),
    "no_links": ("Sin vínculos con otras actividades.", "No links to other activities."),
    "basis": ("Conteo", "Counting"),
    "net": ("Neto (cada flujo una vez)", "Net (each flow once)"),
    "gross": ("Bruto (cada reporte)", "Gross (every report)"),
    "yes": ("sí", "yes"),
    "no": ("no", "no"),
    "language": ("Idioma", "Language"),
    "freshness": ("Datos actualizados", "Data updated"),
    "last_push": ("último envío de un cooperante", "last push from a provider"),
    "never": ("nunca", "never"),
    "last_sync": ("última sincronización con datos publicados",
                  "last sync from published data"),
    "footer": ("Datos IATI publicados por los cooperantes (donantes y prestamistas), "
               "clasificados según el presupuesto del Ecuador. Todo lo que se ve aquí puede "
               "obtenerse con la API.",
               "IATI data published by providers (donors and lenders), classified by "
               "Ecuador's budget. Everything shown here can be had from the API."),
    "measure": ("Medida", "Measure"),
    "commitment": ("Compromisos", "Commitments"),
    "disbursement": ("Desembolsos", "Disbursements"),
    "expenditure": ("Gastos", "Expenditure"),
    "budget": ("Presupuestos", "Budgets"),
    "planned_disbursement": ("Desembolsos planificados", "Planned disbursements"),
    "year": ("Año", "Year"),
    "all_years": ("Todos los años", "All years"),
    "by_year": ("Por año", "By year"),
    "by_donor": ("Por cooperante (donante o prestamista)", "By provider (donor or lender)"),
    "by_partner": ("Por socio ejecutor", "By implementing partner"),
    "by_sector": ("Por sector (categoría CAD)", "By sector (DAC category)"),
    "by_province": ("Por provincia", "By province"),
    "by_objective": ("Por objetivo del Plan Nacional de Desarrollo",
                     "By national development plan objective"),
    "donor": ("Cooperante", "Provider"),
    "instrument": ("Modalidad", "Instrument"),
    "instrument_grant": ("No reembolsable (donación)", "Non-reimbursable (grant)"),
    "instrument_loan": ("Reembolsable (préstamo)", "Reimbursable (loan)"),
    "instrument_other": ("Otros o sin dato", "Other or not given"),
    "stacked_instruments": ("no reembolsable y reembolsable apilados, cada parte por separado",
                            "non-reimbursable and reimbursable stacked, each part apart"),
    "all_instruments": ("no reembolsable y reembolsable sumados",
                        "non-reimbursable and reimbursable added together"),
    "total_all_instruments": ("Total (todas las modalidades)", "Total (every instrument)"),
    "no_partner": ("Sin socio ejecutor publicado", "No implementing partner published"),
    "placeholder_name": ("nombre genérico: no identifica a una organización",
                         "placeholder name: it names no one organisation"),
    "placeholder_ref": ("identificador genérico, dado a organizaciones distintas",
                        "placeholder identifier, given to unrelated organisations"),
    "sector": ("Sector", "Sector"),
    "province": ("Provincia", "Province"),
    "objective": ("Objetivo", "Objective"),
    "amount": ("Monto (USD)", "Amount (USD)"),
    "activities_count": ("Actividades", "Activities"),
    "total": ("Total", "Total"),
    "unclassified": ("Sin clasificar", "Unclassified"),
    "download_csv": ("Descargar CSV", "Download CSV"),
    "download_xml": ("Descargar IATI XML", "Download IATI XML"),
    "api": ("La misma consulta en la API", "The same query in the API"),
    "chart_of": ("Gráfico de barras:", "Bar chart:"),
    "table_beside": ("Los mismos datos están en la tabla.", "The same data is in the table."),
    "show": ("Mostrar", "Show"),
    "apply": ("Aplicar filtros", "Apply filters"),
    "search": ("Buscar en títulos y descripciones", "Search titles and descriptions"),
    "reporting_org": ("Organización que reporta (identificador)",
                      "Reporting organisation (identifier)"),
    "participating_org": ("Organización participante (identificador)",
                          "Participating organisation (identifier)"),
    "sector_code": ("Sector CAD (5 o 3 dígitos)", "DAC sector (5 or 3 digits)"),
    "province_code": ("Provincia", "Province"),
    "any": ("Cualquiera", "Any"),
    "status": ("Estado", "Status"),
    "title": ("Título", "Title"),
    "identifier": ("Identificador IATI", "IATI identifier"),
    "dates": ("Fechas", "Dates"),
    "start": ("Inicio", "Start"),
    "end": ("Fin", "End"),
    "updated": ("Actualizada", "Updated"),
    "found": ("actividades encontradas en esta página", "activities found on this page"),
    "none_found": ("Ninguna actividad cumple estos filtros.", "No activity matches these filters."),
    "next_page": ("Página siguiente", "Next page"),
    "first_page": ("Primera página", "First page"),
    "description": ("Descripción", "Description"),
    "participants": ("Organizaciones participantes", "Participating organisations"),
    "role": ("Rol", "Role"),
    "sectors": ("Sectores", "Sectors"),
    "locations": ("Ubicaciones", "Locations"),
    "transactions": ("Transacciones", "Transactions"),
    "type": ("Tipo", "Type"),
    "date": ("Fecha", "Date"),
    "value": ("Valor", "Value"),
    "provider": ("Proveedor", "Provider"),
    "receiver": ("Receptor", "Receiver"),
    "budget_view": ("Vista presupuestaria del Ecuador", "Ecuador budget view"),
    "classification": ("Clasificación", "Classification"),
    "code": ("Código", "Code"),
    "rule": ("Regla", "Rule"),
    "status_mapping": ("Estado del mapeo", "Mapping status"),
    "versions": ("Versiones", "Versions"),
    "version": ("Versión", "Version"),
    "findings": ("Observaciones de validación", "Validation findings"),
    "no_findings": ("Sin observaciones.", "No findings."),
    "severity": ("Severidad", "Severity"),
    "message": ("Mensaje", "Message"),
    "not_found": ("No encontrado", "Not found"),
    "bad_request": ("Solicitud no válida", "Bad request"),
    "back": ("Volver al resumen", "Back to the overview"),
    "ecuador_scope": (
        "Se muestran las actividades para el Ecuador (las que lo nombran como país receptor, "
        "en la actividad o en sus transacciones) y, de su dinero, la parte del Ecuador: la "
        "de sus transacciones para el Ecuador, o su porcentaje para el Ecuador. Una "
        "actividad regional que no nombra al Ecuador no se cuenta.",
        "Shown: the activities for Ecuador (those naming it as a recipient country, of the "
        "activity or of its transactions) and, of their money, Ecuador's share: that of "
        "their transactions for Ecuador, or their percentage for Ecuador. A regional "
        "activity that does not name Ecuador is not counted."),
    "problem_dashboard.not-for-ecuador": (
        "Esta actividad no nombra al Ecuador como país receptor: el tablero muestra solo las "
        "actividades para el Ecuador. La API la da (GET /api/v1/activity?iati_identifier=…).",
        "This activity does not name Ecuador as a recipient country: the dashboard shows "
        "activities for Ecuador only. The API gives it (GET /api/v1/activity?iati_identifier=…)."),
    "problem_dashboard.none-for-ecuador": (
        "Esta organización no reporta ninguna actividad para el Ecuador ni participa en "
        "ninguna: el tablero muestra solo las actividades para el Ecuador. La API da su "
        "perfil completo (GET /api/v1/organisations/…).",
        "This organisation neither reports nor takes part in an activity for Ecuador: the "
        "dashboard shows activities for Ecuador only. The API gives its whole profile "
        "(GET /api/v1/organisations/…)."),
    "name": ("Nombre", "Name"),
    "refs": ("Identificadores", "Identifiers"),
    "reported": ("Reporta", "Reports"),
    "takes_part": ("Participa", "Takes part"),
    "funders": ("Financiadores", "Funders"),
    "how": ("Cómo", "How"),
    "received_from_funders": ("Recibido según sus financiadores",
                              "Received, as its funders report"),
    "incoming_reported_by_itself": ("Recibido según la propia organización",
                                    "Received, as it reports itself"),
    "disbursed": ("Desembolsado", "Disbursed"),
    "money": ("Dinero", "Money"),
    "provinces": ("Provincias", "Provinces"),
    "live_activities": ("Actividades vigentes", "Live activities"),
    "pushes": ("Envíos", "Pushes"),
    "rejected": ("Rechazadas", "Rejected"),
    "stale": ("Desactualizadas", "Stale"),
    "days_since_push": ("Días desde el último envío", "Days since the last push"),
    "completeness": ("Completitud", "Completeness"),
    "results": ("Resultados", "Results"),
    "location": ("Ubicación", "Location"),
    "ecuador_province": ("Provincia en Ecuador", "Province in Ecuador"),
    "most_frequent": ("Observaciones más frecuentes", "Most frequent findings"),
    "coverage": ("Cobertura de la vista presupuestaria", "Budget view coverage"),
    "coverage_caption": ("Parte de lo desembolsado que cada clasificación asigna",
                         "Share of the money disbursed that each classification assigns"),
    "no_coverage": ("Aún no hay desembolsos en la vista presupuestaria.",
                    "No disbursement is in the budget view yet."),
    "disbursed_usd": ("Desembolsado (US$)", "Disbursed (US$)"),
    "status_verified": ("Verificado", "Verified"),
    "status_proposed": ("Propuesto", "Proposed"),
    "status_not_applicable": ("No aplica", "Not applicable"),
    "status_unmapped": ("Sin asignar", "Unmapped"),
    "class_income_item": ("Ítem de ingreso", "Income item"),
    "class_expenditure_item": ("Ítem de gasto", "Expenditure item"),
    "class_fuente": ("Fuente de financiamiento", "Financing source"),
    "class_investment_subsector": ("Subsector de inversión", "Investment subsector"),
    "class_plan_objective": ("Objetivo del Plan Nacional", "National plan objective"),
    "class_orientacion": ("Orientación del gasto", "Spending orientation"),
    "class_province": ("Provincia", "Province"),
    "class_canton": ("Cantón", "Canton"),
    "class_instrument": ("Modalidad", "Instrument"),
    "class_perimeter": ("Perímetro presupuestario", "Budget perimeter"),
    "class_disbursement_channel": ("Canal de desembolso", "Disbursement channel"),
    "organisation_search": ("Buscar organizaciones", "Search organisations"),
    "map_of": ("Mapa de las provincias del Ecuador:", "Map of Ecuador's provinces:"),
    # Downloads for a spreadsheet set to Spanish, and the debt view.
    "download_csv_es": ("CSV para hoja de cálculo en español (;)",
                        "CSV for a spreadsheet set to Spanish (;)"),
    # Ecuador as a provider: its own south-south and triangular cooperation.
    "provided": ("Cooperación ofrecida", "Cooperation provided"),
    "provided_title": ("Cooperación Sur-Sur y triangular ofrecida por Ecuador",
                       "South-south and triangular cooperation provided by Ecuador"),
    "provided_intro": ("La cooperación que el Ecuador ofrece a otros países, que el Ministerio "
                       "registra y publica como propia (informante principal, no secundario). "
                       "Se muestra aparte: no se suma a la cooperación que recibe el Ecuador "
                       "(resumen, vista presupuestaria, deuda, calidad de datos). Es triangular "
                       "cuando la financia también un tercero (tipo de colaboración 8, o un "
                       "financiador que no es ecuatoriano ni del país receptor).",
                       "The cooperation Ecuador provides to other countries, which the Ministry "
                       "records and publishes as its own (primary, not secondary, reporter). "
                       "It is shown apart: it is not added to the cooperation Ecuador receives "
                       "(overview, budget view, debt, data quality). It is triangular when a "
                       "third party funds it too (collaboration type 8, or a funder that is "
                       "neither Ecuadorian nor of the recipient country)."),
    "no_provided": ("El Ministerio no ha publicado cooperación ofrecida.",
                    "The Ministry has published no cooperation provided."),
    "provided_by_recipient_country": ("Por país receptor", "By recipient country"),
    "provided_by_year": ("Por año", "By year"),
    "provided_by_sector": ("Por sector", "By sector"),
    "provided_by_modality": ("Por modalidad", "By modality"),
    "provided_group_recipient_country": ("País receptor", "Recipient country"),
    "provided_group_year": ("Año", "Year"),
    "provided_group_sector": ("Sector", "Sector"),
    "provided_group_modality": ("Modalidad", "Modality"),
    "modality_south-south": ("Sur-Sur", "South-south"),
    "modality_triangular": ("Triangular", "Triangular"),
    "provided_dataset": ("Archivo IATI del Ministerio", "The Ministry's IATI file"),
    "debt": ("Deuda", "Debt"),
    "security_nav": ("Seguridad", "Security"),
    "security_title": ("Cooperación en seguridad y en desarrollo",
                       "Security and development cooperation"),
    "security_intro": (
        "La cooperación en seguridad, justicia, cárceles, policía, control de drogas, "
        "desarrollo alternativo y construcción de paz, al lado del resto de la cooperación "
        "para el desarrollo. Cada monto se reparte según sus sectores CAD: solo la parte en "
        "los sectores de seguridad cuenta como seguridad, y seguridad más desarrollo suman "
        "el total al centavo.",
        "Cooperation in security, justice, prisons, policing, drug control, alternative "
        "development and peace-building, beside the rest of development cooperation. Each "
        "amount is divided by its DAC sectors: only the part in the security sectors counts "
        "as security, and security plus development add up to the total to the cent."),
    "lens_security": ("Seguridad", "Security"),
    "lens_development": ("Desarrollo", "Development"),
    "security_share": ("% seguridad", "% security"),
    "lens_definition": ("Definición", "Definition"),
    "lens_version": ("versión", "version"),
    "lens_effective": ("vigente desde", "in effect from"),
    "lens_codes": ("Códigos CAD de seguridad", "Security DAC codes"),
    "lens_rest": ("Todo otro monto, incluido el que no tiene sector CAD, es desarrollo. "
                  "La definición completa, con fuentes y los códigos considerados y excluidos:",
                  "Any other amount, one without a DAC sector included, is development. The "
                  "whole definition, with sources and the codes considered and left out:"),
    "by_instrument": ("Por modalidad", "By instrument"),
    "instruments_apart": (
        "La cooperación no reembolsable y la reembolsable se muestran en filas separadas.",
        "Non-reimbursable and reimbursable cooperation are shown in rows of their own."),
    "lens_province_rule": (
        "La vista presupuestaria reparte cada monto por sector y por provincia por separado, "
        "así que la parte de seguridad de una actividad que combina sectores de seguridad y "
        "de desarrollo no puede ubicarse en una provincia. Esta tabla muestra solo las "
        "actividades cuyo dinero es todo de seguridad o todo de desarrollo; el de las "
        "actividades mixtas va aparte, sin provincia.",
        "The budget view divides each amount by sector and by province separately, so the "
        "security part of an activity that mixes security and development sectors cannot be "
        "placed in a province. This table shows only the activities whose money is wholly "
        "security or wholly development; the mixed activities' money is apart, unplaced."),
    "lens_province_caption": ("Actividades enteramente de seguridad o de desarrollo, por "
                              "provincia", "Activities wholly security or development, by "
                              "province"),
    "lens_mixed": ("Actividades mixtas (seguridad y desarrollo), sin provincia",
                   "Mixed activities (security and development), not placed"),
    "lens_policy": ("Alineación con la política nacional de seguridad",
                    "Alignment with the national security policy"),
    "lens_policy_note": (
        "Cada código CAD de seguridad se alinea con un objetivo del plan según una "
        "correspondencia propuesta, pendiente de revisión por el ministerio.",
        "Each security DAC code aligns with an objective of the plan by a proposed "
        "correspondence, awaiting the ministry's review."),
    "lens_policy_caption": ("Dinero de seguridad por objetivo del plan",
                            "Security money by objective of the plan"),
    "dac_codes": ("Códigos CAD", "DAC codes"),
    "no_objective": ("Sin objetivo del plan", "No objective of the plan"),
    "lens_proposals": ("Propuestas para revisión por palabras clave",
                       "Proposals for review by keyword"),
    "lens_proposals_note": (
        "Actividades cuyo título o descripción nombra un tema de seguridad pero ninguno de "
        "cuyos sectores es de seguridad. No se cuentan como seguridad: el ministerio decide.",
        "Activities whose title or description names a security theme but none of whose "
        "sectors is a security sector. They are not counted as security: the ministry "
        "decides."),
    "keywords": ("Palabras clave", "Keywords"),
    "no_proposals": ("Ninguna actividad propuesta.", "No activity proposed."),
    "debt_title": ("Préstamos y servicio de la deuda", "Loans and debt service"),
    "debt_intro": ("Los préstamos que publican los prestamistas: sus condiciones, su estado al "
                   "cierre del último año informado y los reembolsos de intereses y de "
                   "principal (tipos de transacción 5 y 6), cada uno en su ítem de gasto del "
                   "clasificador presupuestario (5603 intereses, 9603 amortización). Los montos "
                   "conservan el signo con que los publica el prestamista.",
                   "The loans lenders publish: their terms, their status at the end of the "
                   "latest year reported, and the interest and principal repaid (transaction "
                   "types 5 and 6), each under its expenditure item of the budget classifier "
                   "(5603 interest, 9603 amortisation). Amounts keep the sign the lender "
                   "publishes them with."),
    "debt_by_lender": ("Servicio de la deuda por prestamista y año",
                       "Debt service by lender and year"),
    "debt_by_item": ("Servicio de la deuda por ítem de gasto", "Debt service by expenditure item"),
    "lender": ("Prestamista", "Lender"),
    "interest_usd": ("Intereses (USD)", "Interest (USD)"),
    "principal_usd": ("Amortización (USD)", "Principal (USD)"),
    "debt_service_usd": ("Servicio de la deuda (USD)", "Debt service (USD)"),
    "without_rate": ("sin tipo de cambio, no sumadas", "without an exchange rate, not added"),
    "balances": ("Estado de los préstamos al cierre de cada año",
                 "Loan status at the end of each year"),
    "balances_note": ("Saldos al cierre del año, en USD: no se suman entre años ni con los "
                      "reembolsos.", "Balances at the end of the year, in USD: never added "
                      "over years nor to the repayments."),
    "principal_outstanding": ("Saldo de principal", "Principal outstanding"),
    "principal_arrears": ("Atrasos de principal", "Principal arrears"),
    "interest_arrears": ("Atrasos de intereses", "Interest arrears"),
    "interest_received": ("Intereses recibidos", "Interest received"),
    "loans": ("Préstamos", "Loans"),
    # The aid-effectiveness scorecard.
    "effectiveness": ("Eficacia", "Effectiveness"),
    "effectiveness_title": ("Eficacia de la cooperación por donante",
                            "Aid effectiveness by donor"),
    "effectiveness_intro": (
        "Indicadores de la Alianza Global para la Cooperación Eficaz al Desarrollo (marco de "
        "seguimiento 2016–2019), aproximados con los datos IATI que publican los donantes, "
        "solo por la parte del Ecuador. Un indicador que no se puede calcular dice por qué: "
        "nunca se muestra como cero.",
        "Indicators of the Global Partnership for Effective Development Co-operation "
        "(2016–2019 monitoring framework), approximated from the IATI data donors publish, "
        "Ecuador's share only. An indicator that cannot be computed says why: it is never "
        "shown as zero."),
    "indicators_explained": ("Qué mide cada indicador", "What each indicator measures"),
    "framework_number": ("N.º en el marco", "Framework number"),
    "scorecard_for": ("Indicadores de", "Indicators for"),
    "all_donors": ("Todos los donantes", "All donors"),
    "not_computable": ("no calculable", "cannot be computed"),
    "numerator": ("Numerador", "Numerator"),
    "denominator": ("Denominador", "Denominator"),
    "missing_data": ("Datos que faltan", "Missing data"),
    "unit_usd": ("USD", "USD"),
    "unit_activities": ("actividades", "activities"),
    "unit_years": ("años", "years"),
    "no_scorecard": ("Ninguna actividad tiene dinero para el Ecuador en ese año.",
                     "No activity has money for Ecuador in that year."),
    "loan_terms": ("Condiciones del préstamo", "Loan terms"),
    "rate_1": ("Tasa de interés 1 (%)", "Interest rate 1 (%)"),
    "rate_2": ("Tasa de interés 2 (%)", "Interest rate 2 (%)"),
    "repayment_type": ("Tipo de amortización", "Repayment type"),
    "repayment_plan": ("Periodicidad de los pagos", "Repayment plan"),
    "commitment_date": ("Fecha de compromiso", "Commitment date"),
    "repayment_first_date": ("Primer pago", "First repayment"),
    "repayment_final_date": ("Último pago", "Final repayment"),
    "status_year": ("Año del estado", "Status year"),
    "loan_status": ("Estado del préstamo al cierre de", "Loan status at the end of"),
    "amount_as_published": ("Publicado", "As published"),
    "repayments": ("Reembolsos de intereses y de principal",
                   "Interest and principal repayments"),
    "repayment_totals": ("Totales por clase y moneda", "Totals by kind and currency"),
    "kind_interest": ("Intereses", "Interest"),
    "kind_principal": ("Principal", "Principal"),
    "currency": ("Moneda", "Currency"),
    "no_loans": ("Ninguna actividad publica condiciones, estado ni reembolsos de un préstamo.",
                 "No activity publishes a loan's terms, status or repayments."),
    "no_terms": ("Sin condiciones publicadas.", "No terms published."),
    "no_status": ("Sin estado publicado.", "No status published."),
    "no_repayments": ("Sin reembolsos publicados.", "No repayments published."),
    "activity_page": ("Página de la actividad", "Activity page"),
    "status_published": ("Publicado por el cooperante", "Published by the provider"),
    "class_sector": ("Sector CAD", "DAC sector"),
    "why": ("Motivo y qué lo resolvería", "Why, and what would settle it"),
    "unofficial": ("traducción no oficial", "unofficial translation"),
    "severity_critical": ("Crítica", "Critical"),
    "severity_error": ("Error", "Error"),
    "severity_warning": ("Advertencia", "Warning"),
    "severity_info": ("Información", "Information"),
    "official_name": ("Nombre oficial (catálogo de entidades del Ecuador)",
                      "Official name (catalogue of Ecuador's entities)"),
    "published_names": ("Nombres publicados (variantes)", "Names as published (variants)"),
    "as_published": ("publicado como", "published as"),
    "perimeter": ("Perímetro presupuestario", "Budget perimeter"),
    "link_transaction_outgoing": ("Transacción hacia", "Transaction to"),
    "link_transaction_incoming": ("Transacción desde", "Transaction from"),
    "link_related_activity": ("Actividad relacionada", "Related activity"),
    "link_other_identifier": ("Otro identificador", "Other identifier"),
    "dup_same-identifier": ("Mismo identificador", "Same identifier"),
    "dup_cross-reference": ("Referencia cruzada", "Cross-reference"),
    "dup_similar": ("Parecidas", "Similar"),
    "ev_title": ("Título", "Title"),
    "ev_participating-orgs": ("Organizaciones participantes", "Participating organisations"),
    "ev_dates": ("Fechas", "Dates"),
    "ev_amounts": ("Montos", "Amounts"),
    "ev_sectors-countries": ("Sectores y países", "Sectors and countries"),
    "ev_other-identifier": ("Otro identificador", "Other identifier"),
    "ev_refused-push": ("Envío rechazado", "Refused push"),
    "decision_pending": ("Pendiente", "Pending"),
    "decisions": ("Decisiones del ministerio", "The ministry's decisions"),
    "decisions_taken": ("Decisiones tomadas", "Decisions taken"),
    "no_decisions": ("Aún no hay decisiones.", "No decisions yet."),
    "deleted_activity": ("actividad eliminada", "activity deleted"),
    "exclusion_lapsed": ("ya no excluye nada: la actividad conservada fue eliminada",
                         "excludes nothing now: the activity kept was deleted"),
    "decision_confirmed": ("Confirmado", "Confirmed"),
    "decision_dismissed": ("Descartado", "Dismissed"),
    "overlap_sector-province": ("Mismo sector y provincia", "Same sector and province"),
    "overlap_implementing-partner": ("Mismo socio ejecutor", "Same implementing partner"),
    "overlap_sector-national": ("Mismo sector, a nivel nacional", "Same sector, at national level"),
    "national_level": ("Nacional: provincia desconocida", "National: province unknown"),
    "province_unknown": ("provincia desconocida", "province unknown"),
    "completeness_sector": ("Sector", "Sector"),
    "completeness_location": ("Ubicación", "Location"),
    "completeness_recipient_country_or_region": ("País o región receptora",
                                                 "Recipient country or region"),
    "completeness_transactions": ("Transacciones", "Transactions"),
    "completeness_budget": ("Presupuesto o desembolso previsto",
                            "Budget or planned disbursement"),
    "completeness_results": ("Resultados", "Results"),
    "completeness_ecuador_province": ("Provincia del Ecuador en la vista presupuestaria",
                                      "Ecuadorian province in the budget view"),
    "how_reporting-org": ("Organización que reporta", "Reporting organisation"),
    "how_participating-org role 1": ("Organización participante financiadora",
                                     "Funding participating organisation"),
    "how_provider-org": ("Proveedor del dinero recibido", "Provider of money received"),
}


def pick(lang: str | None) -> str:
    return lang if lang in LANGUAGES else DEFAULT


def word(key: str, lang: str) -> str:
    spanish, english = WORDS[key]
    return english if lang == "en" else spanish


def number(value: Decimal | int | float | None, lang: str, places: int = 0) -> str:
    """`value` grouped by thousands, with `places` decimals, as the locale writes it."""
    if value is None:
        return "—"
    exact = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    written = f"{exact:,.{places}f}"  # 1,234,567.89
    if lang == "en":
        return written
    return written.replace(",", " ").replace(".", ",").replace(" ", ".")


def money(value: Decimal | None, lang: str) -> str:
    """US dollars to the cent: "US$ 1.234,50" in Spanish, "US$1,234.50" in English."""
    if value is None:
        return "—"
    return ("US$" if lang == "en" else "US$ ") + number(value, lang, 2)


def day(value: date | datetime | None, lang: str) -> str:
    """`value` as "5 mar 2024" / "5 Mar 2024"."""
    if value is None:
        return "—"
    return f"{value.day} {MONTHS[lang][value.month - 1]} {value.year}"


def named(prefix: str, value: str | None, lang: str) -> str:
    """The word for `value` among the words of `prefix` ("severity_", "dup_"…); the value
    itself where there is none, "—" for none."""
    if value is None:
        return "—"
    return word(prefix + value, lang) if prefix + value in WORDS else value
