// FleetServer: the certificate, thing-principal and policy operations on the wire, each a
// call of the FleetDevices function for it.
import FleetDevices
import FleetIndex

extension Operations {
    /// CreateKeysAndCertificate's RSA key is made before the write (tens to hundreds of
    /// milliseconds of a core that the write thread would otherwise spend on it).
    static let devicePreparations: [String: OperationPreparation] = [
        "CreateKeysAndCertificate": { _ in try DeviceKeyPair.generate() },
    ]

    static let devices: [String: OperationHandler] = [
        "CreateKeysAndCertificate": { c, i in
            let keyPair = try c.prepared as? DeviceKeyPair ?? DeviceKeyPair.generate()
            return try Certificates(c.db).createKeysAndCertificate(setAsActive: i.bool("setAsActive") ?? false, keyPair: keyPair, at: c.now)
        },
        "CreateCertificateFromCsr": { c, i in
            try Certificates(c.db).createCertificateFromCsr(csr: i.required("certificateSigningRequest"), setAsActive: i.bool("setAsActive") ?? false, at: c.now)
        },
        "RegisterCertificateWithoutCA": { c, i in
            try Certificates(c.db).registerCertificateWithoutCA(pem: i.required("certificatePem"), status: i.string("status"), at: c.now)
        },
        "DescribeCertificate": { c, i in try Certificates(c.db).describeCertificate(id: i.required("certificateId")) },
        "ListCertificates": { c, i in
            try Certificates(c.db).listCertificates(pageSize: i.int("pageSize"), marker: i.string("marker"), ascendingOrder: i.bool("ascendingOrder") ?? false)
        },
        "UpdateCertificate": { c, i in
            try Certificates(c.db).updateCertificate(id: i.required("certificateId"), newStatus: i.required("newStatus"), at: c.now)
        },
        "DeleteCertificate": { c, i in
            try Certificates(c.db).deleteCertificate(id: i.required("certificateId"), forceDelete: i.bool("forceDelete") ?? false)
        },
        "AttachThingPrincipal": { c, i in
            try Certificates(c.db).attachThingPrincipal(thingName: i.required("thingName"), principal: i.required("principal"),
                                                        type: i.string("thingPrincipalType"), at: c.now)
        },
        "DetachThingPrincipal": { c, i in
            try Certificates(c.db).detachThingPrincipal(thingName: i.required("thingName"), principal: i.required("principal"))
        },
        "ListThingPrincipals": { c, i in
            try Certificates(c.db).listThingPrincipals(thingName: i.required("thingName"), maxResults: i.int("maxResults"), nextToken: i.string("nextToken"))
        },
        "ListPrincipalThings": { c, i in
            try Certificates(c.db).listPrincipalThings(principal: i.required("principal"), maxResults: i.int("maxResults"), nextToken: i.string("nextToken"))
        },
        "CreatePolicy": { c, i in try Policies(c.db).createPolicy(name: i.required("policyName"), document: i.required("policyDocument"), at: c.now) },
        "GetPolicy": { c, i in try Policies(c.db).getPolicy(name: i.required("policyName")) },
        "ListPolicies": { c, i in
            try Policies(c.db).listPolicies(pageSize: i.int("pageSize"), marker: i.string("marker"), ascendingOrder: i.bool("ascendingOrder") ?? false)
        },
        "DeletePolicy": { c, i in try Policies(c.db).deletePolicy(name: i.required("policyName")) },
        "CreatePolicyVersion": { c, i in
            try Policies(c.db).createPolicyVersion(name: i.required("policyName"), document: i.required("policyDocument"),
                                                   setAsDefault: i.bool("setAsDefault") ?? false, at: c.now)
        },
        "ListPolicyVersions": { c, i in try Policies(c.db).listPolicyVersions(name: i.required("policyName")) },
        "GetPolicyVersion": { c, i in try Policies(c.db).getPolicyVersion(name: i.required("policyName"), versionId: i.required("policyVersionId")) },
        "SetDefaultPolicyVersion": { c, i in
            try Policies(c.db).setDefaultPolicyVersion(name: i.required("policyName"), versionId: i.required("policyVersionId"), at: c.now)
        },
        "DeletePolicyVersion": { c, i in
            try Policies(c.db).deletePolicyVersion(name: i.required("policyName"), versionId: i.required("policyVersionId"))
        },
        "AttachPolicy": { c, i in try Policies(c.db).attachPolicy(name: i.required("policyName"), target: i.required("target"), at: c.now) },
        "DetachPolicy": { c, i in try Policies(c.db).detachPolicy(name: i.required("policyName"), target: i.required("target")) },
        "ListAttachedPolicies": { c, i in
            try Policies(c.db).listAttachedPolicies(target: i.required("target"), recursive: i.bool("recursive") ?? false,
                                                    pageSize: i.int("pageSize"), marker: i.string("marker"))
        },
        "ListTargetsForPolicy": { c, i in
            try Policies(c.db).listTargetsForPolicy(name: i.required("policyName"), pageSize: i.int("pageSize"), marker: i.string("marker"))
        },
        "TestAuthorization": { c, i in
            guard let infos = i.json("authInfos") else { throw FleetError.invalid(member: "authInfos", "is required") }
            return try Policies(c.db).testAuthorization(principal: i.string("principal"), clientId: i.string("clientId"), authInfos: infos,
                                                        policyNamesToAdd: i.strings("policyNamesToAdd") ?? [],
                                                        policyNamesToSkip: i.strings("policyNamesToSkip") ?? [])
        },
    ]
}
