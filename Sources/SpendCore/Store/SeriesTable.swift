/// Interns the names that come with usage updates. A series is one (tenant, customer, model);
/// a customer is one (tenant, customer). Raw updates and rollups refer to small integer ids, so
/// a stored update costs no string storage.
struct SeriesTable: Sendable {
    struct SeriesName: Hashable {
        var tenant: String
        var customer: String
        var model: String
    }

    struct CustomerName: Hashable {
        var tenant: String
        var customer: String
    }

    private(set) var series: [SeriesName] = []
    /// Customer id of each series.
    private(set) var customerOfSeries: [UInt32] = []
    /// Model id of each series.
    private(set) var modelOfSeries: [UInt32] = []
    private(set) var customers: [CustomerName] = []
    private(set) var models: [String] = []

    private var seriesIds: [SeriesName: UInt32] = [:]
    private var customerIds: [CustomerName: UInt32] = [:]
    private var modelIds: [String: UInt32] = [:]

    var seriesCount: Int { series.count }

    /// The id of a series, registering it on first sight.
    mutating func id(tenant: String, customer: String, model: String) -> UInt32 {
        let name = SeriesName(tenant: tenant, customer: customer, model: model)
        if let id = seriesIds[name] { return id }
        let id = UInt32(series.count)
        series.append(name)
        seriesIds[name] = id
        let customerName = CustomerName(tenant: tenant, customer: customer)
        let customerId: UInt32
        if let known = customerIds[customerName] {
            customerId = known
        } else {
            customerId = UInt32(customers.count)
            customers.append(customerName)
            customerIds[customerName] = customerId
        }
        customerOfSeries.append(customerId)
        modelOfSeries.append(modelIdRegistering(model))
        return id
    }

    /// A table of only the series and models marked in use, with ids renumbered in their old
    /// order (so lists sorted by id stay sorted), and the new id of every old one (`nil`: gone).
    /// `keptModels` must mark the model of every kept series.
    func compacted(keepingSeries keptSeries: [Bool], models keptModels: [Bool]) -> (table: SeriesTable, series: [UInt32?], models: [UInt32?]) {
        var table = SeriesTable()
        var modelMap = [UInt32?](repeating: nil, count: models.count)
        for (model, kept) in keptModels.enumerated() where kept {
            modelMap[model] = table.modelIdRegistering(models[model])
        }
        var seriesMap = [UInt32?](repeating: nil, count: series.count)
        for (old, kept) in keptSeries.enumerated() where kept {
            let name = series[old]
            seriesMap[old] = table.id(tenant: name.tenant, customer: name.customer, model: name.model)
        }
        return (table, seriesMap, modelMap)
    }

    /// The id of a model, registering it on first sight.
    mutating func modelId(_ model: String) -> UInt32 {
        modelIdRegistering(model)
    }

    private mutating func modelIdRegistering(_ model: String) -> UInt32 {
        if let known = modelIds[model] { return known }
        let id = UInt32(models.count)
        models.append(model)
        modelIds[model] = id
        return id
    }
}
